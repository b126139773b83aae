# plaint — see README.md. Every target needs only Go (plus what it installs itself).
GO        ?= go
BIN       := bin/plaint
# The version stamped into the binary; without git, plaint reads the VCS
# information Go records (or says dev).
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DATA      ?= ./data
PKGS      := ./...
STATICCHECK_VERSION := v0.8.2
# An execution count, not a duration: with a duration Go 1.26's fuzz
# coordinator can report a spurious "context deadline exceeded" when the time
# runs out mid-input on a busy machine (golang/go#75804, fixed in Go 1.27).
FUZZTIME  ?= 150000x

.PHONY: all build run demo test test-cluster fuzz bench lint clean e2e

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/plaint

## run: start the engine on the embedded defaults (NATS + JetStream, bbolt in ./data).
run: build
	./$(BIN) serve --data $(DATA)

## demo: start the engine and publish a synthetic history through NATS.
demo: build
	./scripts/demo.sh

## test: every test with the race detector, then a short fuzz run of each decoder.
test:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)
	$(MAKE) fuzz

## test-cluster: the cluster suite alone: a 3-server NATS cluster with JetStream in
## the test process (random loopback ports) and plaint nodes as subprocesses.
## `make test` runs it too (it is part of ./...). CLUSTER_EVENTS sets the
## events published under fail-over (default: the shortened CI figure).
CLUSTER_EVENTS ?=
test-cluster:
	PLAINT_CLUSTER_EVENTS=$(CLUSTER_EVENTS) $(GO) test -race -count=1 -timeout 20m -run '^TestCluster' -v ./adapters/nats/... ./cmd/plaint

fuzz:
	$(GO) test ./domain -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./domain -run '^$$' -fuzz '^FuzzDecodeMatchesReference$$' -fuzztime $(FUZZTIME)
	$(GO) test ./domain -run '^$$' -fuzz '^FuzzCheckBuilt$$' -fuzztime 20000x
	$(GO) test ./eventstore -run '^$$' -fuzz '^FuzzRecord$$' -fuzztime $(FUZZTIME)
	$(GO) test ./eventstore -run '^$$' -fuzz '^FuzzBlock$$' -fuzztime 3000x
	$(GO) test ./adapters/http -run '^$$' -fuzz '^FuzzReviewQueries$$' -fuzztime 20000x
	$(GO) test ./adapters/http -run '^$$' -fuzz '^FuzzPostEvents$$' -fuzztime 5000x
	$(GO) test ./adapters/http -run '^$$' -fuzz '^FuzzAuthInputs$$' -fuzztime 5000x
	$(GO) test ./adapters/watermill -run '^$$' -fuzz '^FuzzGroupFrames$$' -fuzztime 20000x
	$(GO) test ./adapters/watermill -run '^$$' -fuzz '^FuzzParseAck$$' -fuzztime 20000x
	$(GO) test ./adapters/nats -run '^$$' -fuzz '^FuzzParsePubAck$$' -fuzztime 20000x
	$(GO) test ./eventstore -run '^$$' -fuzz '^FuzzParseCanonicalUUID$$' -fuzztime 20000x
	$(GO) test ./adapters/http -run '^$$' -fuzz '^FuzzAlertStreamStart$$' -fuzztime 20000x
	$(GO) test ./adapters/http -run '^$$' -fuzz '^FuzzParseCloudEvent$$' -fuzztime 20000x

## e2e: the dashboard's browser tests, in headless Chromium (Debian: apt-get install chromium chromium-driver).
E2E_SCREENSHOTS ?= $(CURDIR)/bin/e2e-screenshots
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser)
e2e:
	@if [ -z "$(CHROMIUM)" ] || [ ! -x "$(CHROMIUM)" ]; then \
		echo "make e2e drives a real Chromium, and none was found."; \
		echo "Install it with: apt-get update && apt-get install -y chromium chromium-driver"; \
		echo "(or point CHROMIUM at a Chromium binary: make e2e CHROMIUM=/path/to/chromium)"; \
		exit 1; fi >&2
	$(GO) vet -tags e2e ./cmd/plaint
	rm -rf $(E2E_SCREENSHOTS)
	@CHROMIUM=$(CHROMIUM) E2E_SCREENSHOTS=$(E2E_SCREENSHOTS) $(GO) test -tags e2e -race -count=1 -timeout 15m -run '^TestE2E' -v ./cmd/plaint; \
		status=$$?; echo "screenshots of the pages checked: $(E2E_SCREENSHOTS)"; exit $$status

## bench: the benchmarks behind BENCHMARKS.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./eventstore ./adapters/... ./projections/... ./cmd/plaint/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) vet -tags e2e ./cmd/plaint
	@command -v staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$$($(GO) env GOPATH)/bin/staticcheck $(PKGS)
	$$($(GO) env GOPATH)/bin/staticcheck -tags e2e ./cmd/plaint

clean:
	rm -rf bin
