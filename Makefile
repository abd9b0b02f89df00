# lastmile — build, test, bench, lint. `make test` is what CI runs.
GO      ?= go
BIN     ?= bin/lastmile
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# The platforms lastmile ships for; `make cross` vets and builds them all.
PLATFORMS := darwin/arm64 darwin/amd64 windows/amd64 linux/amd64 linux/arm64
DIST      ?= dist
# Release binaries carry no local paths and no symbol table (panics still
# print stack traces); archives get the commit's time, so two builds of one
# commit give the same bytes.
RELEASE_FLAGS := -trimpath -ldflags "-s -w $(LDFLAGS)"
MTIME   := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
ARCHIVE := bin/archive
MCPB    := npx --prefix packaging/mcpb --no -- mcpb
# The tests whose code has a portable variant (what Windows runs: the lock
# file's words through file I/O, f.Sync), forced on this machine.
PORTABLE_TESTS := ./internal/osfile/ ./store/ ./sandbox/

# The packages whose goroutines share state, run under the race detector
# by make test: the MCP transport and tools, the sandbox and its promoter,
# the store, the caches, the connectors with their rate limiters, and the
# review page with its sessions and passkey prompts.
RACE_TESTS := ./tools/ ./sandbox/ ./store/ ./internal/... ./connectors/... ./review/... ./approvers/
# staticcheck, pinned; `go run` fetches it through the module proxy.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build test test-short test-portable bench lint e2e demo clean cross release mcpb

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/lastmile

# The whole suite: unit, in-process MCP, real stdio, the npm MCP client
# end to end (installed when missing), crash safety, fuzz seed corpora, the
# real-WordPress tests when WordPress runs or can be started here, and the
# browser tests when chromium is installed. Ends
# with a line naming what was skipped and why (scripts/test).
test: build lint
	$(GO) test -count=1 -timeout 30m -tags lastmile_portable $(PORTABLE_TESTS)
	$(GO) test -race -count=1 -timeout 30m $(RACE_TESTS)
	GO=$(GO) scripts/test

# The store and journal tests with the portable code (what Windows runs).
test-portable:
	$(GO) test -count=1 -tags lastmile_portable $(PORTABLE_TESTS)

# A real WordPress (start.sh installs and starts it; needs root) and the
# tests that use it, which then fail rather than skip.
.PHONY: test-wordpress
test-wordpress:
	@wp_env=$$(connectors/wordpress/wordpresstest/start.sh) && eval "$$wp_env" && \
	LASTMILE_REQUIRE_WP=1 $(GO) test -count=1 -timeout 30m ./connectors/wordpress/... && \
	LASTMILE_REQUIRE_WP=1 $(GO) test -count=1 -timeout 30m -run 'WordPress' ./cmd/lastmile/ && \
	echo "WordPress keeps running: connectors/wordpress/wordpresstest/stop.sh stops it"

# Debian's PostgreSQL (start.sh installs and starts it; needs root) and the
# PostgreSQL store's tests, which then fail rather than skip, and the
# sandbox's whole suite over a PostgreSQL store.
.PHONY: test-postgres
test-postgres:
	@pg_env=$$(store/pgtest/start.sh) && eval "$$pg_env" && \
	$(GO) test -count=1 -timeout 30m ./store/... && \
	$(GO) test -count=1 -timeout 30m -run 'Postgres' ./cmd/lastmile/ && \
	LASTMILE_TEST_SANDBOX_STORE=postgres $(GO) test -count=1 -timeout 30m ./sandbox/ && \
	echo "PostgreSQL keeps running: store/pgtest/stop.sh stops it"

test-short:
	$(GO) test -short -count=1 ./...

# Benchmarks with their baselines, measured in the same run; see docs/benchmarks.md.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 60m ./...

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	bash -n scripts/test .ci/run store/pgtest/start.sh store/pgtest/stop.sh
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

demo: build
	$(BIN) demo

# go vet (test files included) and go build for every platform, and vet of
# the portable code; no cgo anywhere, so nothing needs a C cross-compiler.
cross:
	@set -e; for p in $(PLATFORMS); do \
		echo "== $$p: vet, build"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) vet ./...; \
		GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) build -o /dev/null ./...; \
	done
	@echo "== linux/amd64, -tags lastmile_portable: vet"
	@GOOS=linux GOARCH=amd64 CGO_ENABLED=0 $(GO) vet -tags lastmile_portable ./...

$(ARCHIVE): packaging/archive/main.go
	$(GO) build -o $@ ./packaging/archive

# dist/lastmile-VERSION-OS-ARCH.tar.gz (.zip for Windows), each a folder with
# the binary, README and CHANGELOG, and dist/SHA256SUMS for them
# (`sha256sum -c SHA256SUMS`, or `shasum -a 256 -c` on macOS).
release: $(ARCHIVE)
	rm -rf $(DIST)/release
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; exe=; ext=tar.gz; \
		if [ $$os = windows ]; then exe=.exe; ext=zip; fi; \
		name=lastmile-$(VERSION)-$$os-$$arch; \
		echo "== $(DIST)/$$name.$$ext"; \
		mkdir -p $(DIST)/release/$$name; \
		GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build $(RELEASE_FLAGS) -o $(DIST)/release/$$name/lastmile$$exe ./cmd/lastmile; \
		cp README.md CHANGELOG.md $(DIST)/release/$$name/; \
		$(ARCHIVE) -mtime $(MTIME) -o $(DIST)/$$name.$$ext $(DIST)/release/$$name; \
	done
	rm -rf $(DIST)/release
	$(ARCHIVE) -sums $(DIST)/SHA256SUMS $(DIST)/lastmile-$(VERSION)-*.tar.gz $(DIST)/lastmile-$(VERSION)-*.zip
	@cat $(DIST)/SHA256SUMS

# dist/lastmile-VERSION.mcpb, the Claude Desktop extension: the macOS and
# Linux builds behind a launcher that picks one by machine, the Windows
# build, and the manifest stamped with the version, validated, then packed
# by @anthropic-ai/mcpb (pinned in packaging/mcpb/package-lock.json).
MCPB_DIR := $(DIST)/mcpb/lastmile
mcpb:
	npm ci --prefix packaging/mcpb --no-audit --no-fund
	$(MCPB) validate packaging/mcpb/manifest.json
	rm -rf $(DIST)/mcpb
	@set -e; for p in darwin/arm64 darwin/amd64 linux/amd64 linux/arm64; do \
		echo "== $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) build $(RELEASE_FLAGS) -o $(MCPB_DIR)/server/$${p%/*}-$${p#*/}/lastmile ./cmd/lastmile; \
	done
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build $(RELEASE_FLAGS) -o $(MCPB_DIR)/server/lastmile.exe ./cmd/lastmile
	cp packaging/mcpb/lastmile.sh $(MCPB_DIR)/server/lastmile
	chmod 755 $(MCPB_DIR)/server/lastmile
	node packaging/mcpb/stamp.mjs $(VERSION) packaging/mcpb/manifest.json $(MCPB_DIR)/manifest.json
	$(MCPB) validate $(MCPB_DIR)/manifest.json
	$(MCPB) pack $(MCPB_DIR) $(CURDIR)/$(DIST)/lastmile-$(VERSION).mcpb
	rm -rf $(DIST)/mcpb
	@echo "smoke test: the bundle's launcher runs this machine's build"
	@rm -rf $(DIST)/mcpb-check && mkdir -p $(DIST)/mcpb-check
	@$(MCPB) unpack $(CURDIR)/$(DIST)/lastmile-$(VERSION).mcpb $(CURDIR)/$(DIST)/mcpb-check >/dev/null
	$(DIST)/mcpb-check/server/lastmile version
	@rm -rf $(DIST)/mcpb-check

clean:
	rm -rf bin $(DIST)
