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
# cfn-lint is Python, not from npm: the version CI machines carry. Settings (and the reason for
# each accepted warning) are in test/cfnlintrc.yaml, shared with the tests.
CFN_LINT_VERSION := 1.51.0
CFN_LINT := cfn-lint --config-file test/cfnlintrc.yaml
# Not ./...: node_modules holds the CDK CLI's Go init templates, which are not ours to build.
PKGS := ./constructs/... ./apps/... ./test/... $(if $(wildcard examples),./examples/...)

.PHONY: synth test install lint golden bench clean cfn-lint report-assets report-picture

# Go tools the tests run for real, at the versions the pipelines install (the tests check the
# version against envpipeline.GitleaksVersion): built from the Go module proxy, verified by the
# checksum database, into .tools/<tool>-<version>/; a second make install finds them and builds
# nothing.
GITLEAKS_VERSION := v8.28.0
GITLEAKS := .tools/gitleaks-$(GITLEAKS_VERSION)/gitleaks

install: node_modules/.installed $(GITLEAKS)

$(GITLEAKS):
	GOBIN=$(CURDIR)/$(@D) GOFLAGS= go install github.com/zricethezav/gitleaks/v8@$(GITLEAKS_VERSION)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@node --version | grep -q '^v22\.' || { echo "expected Node 22 from node_modules/.bin, got $$(node --version)"; exit 1; }
	touch $@

synth: install
	cdk synth --quiet
	@echo "templates in cdk.out/ (cdk-nag AwsSolutions and NIST 800-53 R5 ran on every stack: zero errors; reports beside the templates)"

# Packages that run goroutines against shared state (readers, the AWS fake) and start no
# jsii process: the race detector runs them a second time, because a race there shows up
# only now and then in a plain run (the metrics benchmark once crashed CI on one).
RACE_PKGS := ./constructs/dora/... ./constructs/dashboard/lambda/... ./test/fakeaws/... \
  ./constructs/sandboxes/state/... ./constructs/sandboxes/controller/... ./constructs/sandboxes/lambda/...

test: install cfn-lint
	go vet $(PKGS)
	go test $(GO_TEST_FLAGS) $(PKGS)
	go test -race $(GO_TEST_FLAGS) $(RACE_PKGS)
	go test -race $(GO_TEST_FLAGS) -run 'Metrics|Report' ./apps/ship/internal/ship/

# Fails on any error, and on any warning test/cfnlintrc.yaml does not accept.
lint: synth cfn-lint
	$(CFN_LINT) cdk.out/*.template.json

# Rewrites test/testdata/golden after an intended change; review `git diff` before committing.
# The tests refuse -update when CI is set.
golden: install
	go test ./test/ -run 'TestGoldenTemplates|TestExamples(CheckoutService|CustomSteps)$$' -update

cfn-lint:
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is not on PATH. Install the version CI uses:"; \
	  echo "  pipx install cfn-lint==$(CFN_LINT_VERSION)    (or: pip install --user cfn-lint==$(CFN_LINT_VERSION))"; exit 1; }
	@cfn-lint --version | grep -q ' $(CFN_LINT_VERSION)$$' || \
	  echo "warning: $$(cfn-lint --version), CI uses $(CFN_LINT_VERSION); other versions may report other findings"

# BENCH_FLAGS, e.g. "-runs 1 -teams 1" for a smoke run (what the README test does).
# METRICS_BENCH_FLAGS are go test's for the delivery metrics benchmark (ship metrics --all
# over 50 paths against the local AWS fake), e.g. -benchtime=1x for a smoke run.
METRICS_BENCH_FLAGS ?= -count 5
bench: install
	go run ./test/synthbench $(BENCH_FLAGS)
	go test -run '^$$' -bench MetricsFiftyPaths $(METRICS_BENCH_FLAGS) ./apps/ship/internal/ship/

# The delivery report (apps/ship/internal/report) inlines ECharts so it opens with no network.
# The copy is committed (the Go build cannot reach node_modules); this refreshes it from the
# version package.json pins, and TestEmbeddedEChartsMatchesPin fails when they differ.
REPORT_ASSETS := apps/ship/internal/report/assets
report-assets: install
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE node_modules/echarts/NOTICE $(REPORT_ASSETS)/
	cp node_modules/echarts/licenses/LICENSE-d3 $(REPORT_ASSETS)/LICENSE-d3
	cp node_modules/zrender/LICENSE $(REPORT_ASSETS)/LICENSE-zrender

# The README's picture of the report: the screenshot test's input, drawn by headless Chromium
# (Debian's chromium package), cropped to the organisation and the first path.
report-picture:
	REPORT_PICTURE=$(CURDIR)/docs/report.png go test ./apps/ship/internal/report/ -run 'TestScreenshot$$' -count=1 -v

clean:
	rm -rf cdk.out
