# oktasight: the Okta System Log for Splunk. See README.md.
SHELL      := /bin/bash
GO         ?= go
APP        := oktasight
VERSION    := $(shell sed -n 's/^version *= *//p' default/app.conf 2>/dev/null | head -1)
LDFLAGS    := -s -w -X main.version=$(VERSION)
BINARIES   := oktainput oktasession oktasim
PKGS       := ./...
FUZZTIME   ?= 10s

export CGO_ENABLED := 0

.PHONY: all build test unit fuzz reduce-check lint fmt vet staticcheck bench demo package package-check wine-check clean setup-test setup-build dashboards-test

all: build

## build: static binaries for this machine into bin/, profile-guided where cmd/<name>/profile.pgo
## exists (not default.pgo: go test would then rebuild the standard library with each profile,
## which doubled CI's time on a cold build cache)
build:
	@mkdir -p bin
	@for b in $(BINARIES); do \
	  pgo=off; [ -f cmd/$$b/profile.pgo ] && pgo=cmd/$$b/profile.pgo; \
	  $(GO) build -trimpath -pgo=$$pgo -ldflags '$(LDFLAGS)' -o bin/$$b ./cmd/$$b || exit 1; \
	done
	@echo "built: $(addprefix bin/,$(BINARIES))"

## test: lint, unit tests with the race detector, short fuzz runs, the reduce's large harness,
## the setup page and the dashboards in a browser
test: lint unit fuzz reduce-check setup-test dashboards-test

unit:
	CGO_ENABLED=1 $(GO) test -race -shuffle=on -count=1 -timeout 15m $(PKGS)

## reduce-check: oktasession's reduce against the single-phase result on a 250 000-event day
## split over 1, 3, 8 and 32 indexers, six interleavings each (no race detector: too slow there)
reduce-check:
	OKTASESSION_LARGE=1 $(GO) test -count=1 -timeout 30m -v -run 'TestReduceInterleavings(Sim|Large|Busy)$$|TestReduceBusyKey' ./cmd/oktasession

## fuzz: every fuzz target for FUZZTIME each (seed corpora already run in unit)
fuzz:
	@FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

## dashboards-test: validate the Dashboard Studio views with Splunk's validator and render them in
## Debian's chromium with data from oktasim -> oktainput -> oktasession (needs `npm ci` in
## web/dashboards; screenshots in web/dashboards/artifacts/)
dashboards-test: build
	@[ -d web/dashboards/node_modules ] || { echo "dashboards-test: run (cd web/dashboards && npm ci) first"; exit 1; }
	cd web/dashboards && npm test

lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files -o --exclude-standard '*.go' 2>/dev/null)); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) tool -modfile=tools/go.mod staticcheck $(PKGS)

## setup-test: the setup page (web/setup): the committed appserver/static/oktasight_setup.js is
## a fresh build of its sources, and its browser test (Debian's chromium, CHROMIUM=<path> to
## change) against a fake splunkd whose validation runs oktainput against oktasim (built here
## without PGO: a profile rebuilds the standard library, 97 s of CPU instead of 40 s cold)
setup-test:
	@[ -d web/setup/node_modules ] || (cd web/setup && npm ci --no-audit --no-fund)
	cd web/setup && npm run --silent check
	$(GO) build -trimpath -o web/setup/test-results/bin/ ./cmd/oktainput ./cmd/oktasim
	cd web/setup && OKTASIGHT_BIN=$(CURDIR)/web/setup/test-results/bin npm test

## setup-build: rebuild appserver/static/oktasight_setup.js from web/setup (commit the result)
setup-build:
	@[ -d web/setup/node_modules ] || (cd web/setup && npm ci --no-audit --no-fund)
	cd web/setup && npm run --silent build

## bench: Go benchmarks of the hot paths
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS)

## demo: simulated Okta org -> oktainput -> events (and sequences), no Okta or Splunk needed
demo: build
	@bash scripts/demo.sh

## package: dist/$(APP)-<version>.tgz, the app a Splunk admin installs (five platforms)
package:
	@bash scripts/package.sh

## package-check: the package twice, the second time with an empty build cache: same bytes
package-check:
	@a=$$(mktemp -d) b=$$(mktemp -d) cache=$$(mktemp -d); \
	  DIST_DIR=$$a bash scripts/package.sh >/dev/null && \
	  GOCACHE=$$cache DIST_DIR=$$b bash scripts/package.sh >/dev/null && \
	  sha256sum $$a/*.tgz $$b/*.tgz && cmp $$a/*.tgz $$b/*.tgz && echo "package-check: the same bytes"; \
	  rc=$$?; rm -rf $$a $$b $$cache; exit $$rc

## wine-check: the Windows build of both programs under wine (scripts/wine-check.sh)
wine-check:
	@bash scripts/wine-check.sh

clean:
	rm -rf dist $(addprefix bin/,$(BINARIES))
