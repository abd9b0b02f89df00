# lastmile — build, test, bench, lint. `make test` is what CI runs.
GO      ?= go
BIN     ?= bin/lastmile
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build test test-short bench lint e2e demo clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/lastmile

# The whole suite: unit, in-process MCP, real stdio, the npm MCP client
# end to end, crash safety, fuzz seed corpora. Integration tests against a
# real WordPress run when LASTMILE_WP_URL is set (.ci/run starts one).
test: build lint
	$(GO) test -count=1 -timeout 30m ./...

test-short:
	$(GO) test -short -count=1 ./...

# Benchmarks with their baselines, measured in the same run; see docs/benchmarks.md.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 60m ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

demo: build
	$(BIN) demo

clean:
	rm -rf bin
