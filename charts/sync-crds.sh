#!/usr/bin/env bash
# Copies the generated CRDs into the chart (Helm cannot read files outside the chart directory).
# Run after `npm run crds`; test/chart/chart.test.ts fails while the copies differ.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cp "$root"/crds/generated/*.yaml "$root/charts/switchboard/files/crds/"
