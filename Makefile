# Parley's build. Two commands matter: `make run` and `make test`; each
# installs the system packages it needs first (scripts/deps.sh).
SHELL := /bin/bash
GO ?= go
BIN := bin/parley
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run build deps test-deps test lint bench crash screenshots icon clean security

## run: install what the console needs, build it and open it (ARGS="..." passes flags)
run: build
	./$(BIN) $(ARGS)

## build: compile bin/parley
build: deps
	$(GO) build -buildvcs=auto -o $(BIN) .

deps:
	@scripts/deps.sh build

test-deps:
	@scripts/deps.sh test

## test: format, vet and staticcheck, then every test (race detector, real keyring, Xvfb smoke test)
test: test-deps
	@scripts/test.sh

## lint: the static checks alone
lint:
	@scripts/test.sh lint

## security: gosec and govulncheck alone (also part of make test)
security:
	@scripts/security.sh

## bench: every benchmark, the import's peak memory, then one table of every target, printed and written into BENCHMARKS.md (about 15 to 25 minutes on a quiet machine; BENCH_COUNT, BENCH_ONLY: see scripts/bench.sh)
bench: deps test-deps
	@scripts/bench.sh

## crash: the full crash test: 10,000 messages, a real `parley sync` SIGKILLed 200 times (several minutes)
crash: deps
	@scripts/crash.sh

.PHONY: soak fuzz
## soak: the full soak test: 20,000 messages while both sandboxes inject faults (many minutes)
soak:
	@scripts/soak.sh

## fuzz: every fuzz target in turn for FUZZTIME each (default 1m; ONLY=<regexp> for some)
fuzz:
	@scripts/fuzz.sh

## screenshots: regenerate the README's pictures, docs/console.png and docs/screens/<screen>.png (every screen, once the demo's sync has settled; about two minutes)
screenshots: build test-deps
	PARLEY_SMOKE_BINARY=$(CURDIR)/$(BIN) PARLEY_SMOKE_SHOT=$(CURDIR)/docs/console.png PARLEY_SMOKE_SCREENS=$(CURDIR)/docs/screens \
		scripts/with-keyring.sh $(GO) test -count=1 -timeout 10m -v -run '^(TestConsoleWindowDraws|TestEveryScreenDraws|TestConnectionsConnectedPicture)$$' ./ui/smoke/

## icon: render assets/icon.png from assets/icon.svg
icon:
	convert -background none assets/icon.svg -resize 512x512 -depth 8 PNG32:assets/icon.png

## package: build dist/parley-linux-<arch>-<version>.tar.xz (icon, .desktop entry, install Makefile), then install it into a temporary prefix and start it
.PHONY: package
package: deps test-deps
	@scripts/package.sh

## package-windows: cross-compile dist/parley.exe and dist/parley-windows-amd64-<version>.zip
.PHONY: package-windows
package-windows:
	@scripts/deps.sh windows
	@scripts/windows.sh package

clean:
	rm -rf bin
