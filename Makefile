# Switchboard: one toolchain (Node 24 from the `node` devDependency, put first on PATH by npm).
SHELL := /bin/bash
NPM ?= npm

.PHONY: setup build demo test lint bench clean

node_modules/.package-lock.json: package.json package-lock.json crds/package.json dataplane/package.json operator/package.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

setup: node_modules/.package-lock.json ## install dependencies and build
	$(NPM) run build

build: setup

demo: setup ## run the gateway on its embedded default against the mock provider
	$(NPM) run demo

test: setup ## run every test (unit, integration, end to end)
	$(NPM) test

lint: setup
	$(NPM) run lint

bench: setup ## run the benchmarks and print the tables
	$(NPM) run bench

clean:
	$(NPM) run clean
