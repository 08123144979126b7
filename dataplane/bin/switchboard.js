#!/usr/bin/env -S node --no-memory-reducer
// --no-memory-reducer: see docs/decisions/0019 (V8 reads it only when the heap is set up, so it is
// a flag of the node command: here, in Dockerfile.dataplane and in the benches' gateways).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
