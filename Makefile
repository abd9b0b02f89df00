# lastmile — build, test, bench, lint. `make test` is what CI runs.
GO      ?= go
BIN     ?= bin/lastmile
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build test test-short bench lint e2e demo clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/lastmile

# The whole suite: unit, in-process MCP, real stdio, the npm MCP client
# end to end (installed when missing), crash safety, fuzz seed corpora, and
# the real-WordPress tests when WordPress runs or can be started here. Ends
# with a line naming what was skipped and why (scripts/test).
test: build lint
	GO=$(GO) scripts/test

# A real WordPress (start.sh installs and starts it; needs root) and the
# tests that use it, which then fail rather than skip.
.PHONY: test-wordpress
test-wordpress:
	@wp_env=$$(connectors/wordpress/wordpresstest/start.sh) && eval "$$wp_env" && \
	LASTMILE_REQUIRE_WP=1 $(GO) test -count=1 -timeout 30m ./connectors/wordpress/... && \
	LASTMILE_REQUIRE_WP=1 $(GO) test -count=1 -timeout 30m -run 'WordPress' ./cmd/lastmile/ && \
	echo "WordPress keeps running: connectors/wordpress/wordpresstest/stop.sh stops it"

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
