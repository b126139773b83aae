# plaint — see README.md. Every target needs only Go (plus what it installs itself).
GO        ?= go
BIN       := bin/plaint
DATA      ?= ./data
PKGS      := ./...
STATICCHECK_VERSION := v0.8.2
# An execution count, not a duration: with a duration Go 1.26's fuzz
# coordinator can report a spurious "context deadline exceeded" when the time
# runs out mid-input on a busy machine (golang/go#75804, fixed in Go 1.27).
FUZZTIME  ?= 150000x

.PHONY: all build run demo test fuzz bench lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/plaint

## run: start the engine on the embedded defaults (NATS + JetStream, bbolt in ./data).
run: build
	./$(BIN) serve --data $(DATA)

## demo: start the engine and publish a synthetic history through NATS.
demo: build
	./scripts/demo.sh

## test: every test with the race detector, then a short fuzz run of each decoder.
test:
	$(GO) test -race -count=1 $(PKGS)
	$(MAKE) fuzz

fuzz:
	$(GO) test ./domain -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./domain -run '^$$' -fuzz '^FuzzDecodeMatchesReference$$' -fuzztime $(FUZZTIME)
	$(GO) test ./eventstore -run '^$$' -fuzz '^FuzzRecord$$' -fuzztime $(FUZZTIME)

## bench: the benchmarks behind BENCHMARKS.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./eventstore ./adapters/... ./projections/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	@command -v staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$$($(GO) env GOPATH)/bin/staticcheck $(PKGS)

clean:
	rm -rf bin
