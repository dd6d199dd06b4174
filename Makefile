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

.PHONY: all build test unit fuzz reduce-check lint fmt vet staticcheck bench demo package clean

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

## test: lint, unit tests with the race detector, short fuzz runs, the reduce's large harness
test: lint unit fuzz reduce-check

unit:
	CGO_ENABLED=1 $(GO) test -race -shuffle=on -count=1 -timeout 15m $(PKGS)

## reduce-check: oktasession's reduce against the single-phase result on a 250 000-event day
## split over 1, 3, 8 and 32 indexers, six interleavings each (no race detector: too slow there)
reduce-check:
	OKTASESSION_LARGE=1 $(GO) test -count=1 -timeout 30m -v -run 'TestReduceInterleavings(Sim|Large)$$|TestReduceRefusesToCutAKey' ./cmd/oktasession

## fuzz: every fuzz target for FUZZTIME each (seed corpora already run in unit)
fuzz:
	@FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files -o --exclude-standard '*.go' 2>/dev/null)); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) tool -modfile=tools/go.mod staticcheck $(PKGS)

## bench: Go benchmarks of the hot paths
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS)

## demo: simulated Okta org -> oktainput -> events (and sequences), no Okta or Splunk needed
demo: build
	@bash scripts/demo.sh

## package: dist/$(APP)-<version>.tgz, the app a Splunk admin installs
package:
	@bash scripts/package.sh

clean:
	rm -rf dist $(addprefix bin/,$(BINARIES))
