# The two commands a fresh machine needs (Go, Node 20 and npm are all it must have):
#   make synth   install the pinned Node tooling, synthesize the default organisation into cdk.out/
#   make test    install the pinned Node tooling, run every test
# Node 22 (for jsii) and the CDK CLI come from package.json/package-lock.json, never global.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
# jsii warns about Node 20 if the pinned Node 22 is not first on PATH; it is, so this is a backstop.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

GO_TEST_FLAGS ?= -timeout 30m
# Not ./...: node_modules holds the CDK CLI's Go init templates, which are not ours to build.
PKGS := ./constructs/... ./apps/... ./test/... $(if $(wildcard examples),./examples/...)

.PHONY: synth test install lint golden bench clean

install: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@node --version | grep -q '^v22\.' || { echo "expected Node 22 from node_modules/.bin, got $$(node --version)"; exit 1; }
	touch $@

synth: install
	cdk synth --quiet
	@echo "templates in cdk.out/ (cdk-nag AwsSolutions ran on every stack: zero errors)"

test: install
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is not on PATH: it ships with this machine image (PyPI is not reachable here to install it)"; exit 1; }
	go vet $(PKGS)
	go test $(GO_TEST_FLAGS) $(PKGS)

lint: synth
	cfn-lint cdk.out/*.template.json

golden: install
	go test ./test/ -run TestGoldenTemplates -update

bench: install
	go run ./test/synthbench

clean:
	rm -rf cdk.out
