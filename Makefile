# wasm-cart — build, test and demo.
#
#   make setup   install the toolchain (idempotent: skips what is already there)
#   make test    setup + every test layer (native, wasm in headless Chromium, Node, types, e2e)
#   make bench   print performance figures (never asserted in tests)
#
# Versions are pinned here and in Cargo.toml / package.json; see ../shared/TOOLCHAIN.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

WASM_BINDGEN_VERSION := 0.2.130
WASM_PACK_VERSION := 0.15.1
CARGO_BIN := $(HOME)/.cargo/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PATH := $(CURDIR)/node_modules/.bin:$(CARGO_BIN):$(PATH)
CONFORMANCE_DIR ?= $(abspath ../shared/conformance)
export CONFORMANCE_DIR

.PHONY: setup setup-rust setup-wasm-tools setup-browser setup-npm test test-native lint bench clean

setup: setup-rust setup-wasm-tools setup-browser setup-npm

setup-rust:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
	  || rustup target add wasm32-unknown-unknown
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

# wasm-bindgen-cli must match the crate's `wasm-bindgen = "=0.2.130"` exactly. Its lock file names a
# dependency version the registry no longer has, so `--locked` is tried first and dropped only if it fails.
setup-wasm-tools:
	@wasm-bindgen --version 2>/dev/null | grep -q " $(WASM_BINDGEN_VERSION)" \
	  || cargo install --locked wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) \
	  || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@wasm-pack --version 2>/dev/null | grep -q " $(WASM_PACK_VERSION)" \
	  || cargo install --locked wasm-pack --version $(WASM_PACK_VERSION)

setup-browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium chromium-driver; \
	fi

# npm ci only when package-lock.json changed since the last install.
setup-npm: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

test: setup lint test-native test-server test-wasm test-node test-types test-e2e

lint:
	cargo fmt --all --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy -p cart-server --all-targets -- -D warnings
	cargo clippy --all-targets --no-default-features -- -D warnings
	cargo clippy --lib --no-default-features --features web -- -D warnings

test-native:
	cargo test --no-default-features --features relay

# change → view in Node, in Chromium with localStorage and through a release cart-server, cold open
# and the package's size (benches/browser/run.mjs); pricing (time per operation, then instructions per
# price() under callgrind); then checkout throughput of the release server: SQLite (synchronous FULL and NORMAL) and PostgreSQL with one and
# two instances, on a throwaway cluster with fsync on.
bench: pkg | setup-npm
	cargo build --release -p cart-server
	CART_SERVER_BIN=$(CURDIR)/target/release/cart-server node benches/browser/run.mjs pkg
	cargo bench --no-default-features --bench pricing
	cargo build --release --no-default-features --example price_count
	scripts/count-instructions.sh target/release/examples/price_count
	PG_FSYNC=on scripts/with-postgres.sh cargo bench -p cart-server --bench checkout

# Tabs sharing one cart in real Chromium: four coordination strategies and the package itself, changes
# lost and how soon another tab sees a change (docs/tabs.md).
.PHONY: bench-tabs
bench-tabs: pkg | setup-npm
	node benches/tabs/lab.mjs 10 0 pkg

clean:
	cargo clean
	rm -rf pkg node_modules

# The reference checkout server (server/, crate cart-server): docs/server.md.
.PHONY: server test-server demo demo-commercetools
server:
	cargo build -p cart-server

# The server suite twice: on SQLite files, then on a throwaway PostgreSQL cluster (Debian's postgresql,
# installed if missing; scripts/with-postgres.sh starts it on 127.0.0.1 and removes it afterwards).
test-server: server
	cargo test -p cart-server
	scripts/with-postgres.sh cargo test -p cart-server

# Builds pkg/ and the server (release), then serves the storefront (www/), pkg/ and the API on
# http://127.0.0.1:8080 with the demo catalog; orders and stock live in data/cart.db.
# `make demo RELAY=commercetools`: the same storefront, with cart-server relaying every checkout to a
# commercetools emulator on http://127.0.0.1:8090 (docs/sync.md); each order that lands there is printed.
demo: setup pkg
ifeq ($(RELAY),commercetools)
	cargo build --release -p cart-server
	node scripts/demo-commercetools.mjs
else
	cargo run --release -p cart-server -- --addr 127.0.0.1:8080 --db data/cart.db \
	  --catalog server/catalog/demo.json --static www --pkg pkg
endif

demo-commercetools:
	$(MAKE) demo RELAY=commercetools

# The npm package (pkg/, issue 3): wasm-pack --target web, wasm-opt -Oz from npm's binaryen (never
# Debian's, see ../shared/TOOLCHAIN.md), then scripts/finish-pkg.mjs (name wasm-cart, types,
# sideEffects: false, no `any` in the .d.ts). Rebuilt only when a source changed.
.PHONY: pkg test-wasm test-node test-types
PKG_INPUTS := Cargo.toml Cargo.lock scripts/pkg/README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE scripts/finish-pkg.mjs scripts/pkg-guards.js scripts/pkg/node.js scripts/pkg/react.js scripts/pkg/react.d.ts scripts/pkg/format.js scripts/pkg/format.d.ts ts/wasm_cart.types.d.ts ts/data.generated.d.ts ts/errors.generated.d.ts $(shell find src -type f)
pkg: pkg/.built
pkg/.built: $(PKG_INPUTS) | setup
	@test "$$(command -v wasm-opt)" = "$(CURDIR)/node_modules/.bin/wasm-opt" \
	  || { echo "wasm-opt must come from node_modules/.bin (npm binaryen), found: $$(command -v wasm-opt)"; exit 1; }
	wasm-pack build --release --target web --out-dir pkg --mode no-install -- --no-default-features --features web
	node scripts/finish-pkg.mjs pkg
	@touch $@

# tests/web.rs in headless Chromium (wasm-bindgen-test-runner drives chromedriver).
test-wasm:
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	CHROMEDRIVER="$$(command -v chromedriver)" \
	  cargo test --target wasm32-unknown-unknown --test web

# The built package in Node: every conformance vector through the JavaScript API, the API itself, and
# the client's checkout against the real cart-server binary (tests/node/checkout-server.test.mjs).
test-node: pkg server
	CART_SERVER_BIN=$(CURDIR)/target/debug/cart-server node --test tests/node/

# tests/types/usage.ts against pkg/wasm_cart.d.ts.
test-types: pkg
	tsc --noEmit --strict -p tests/types

# The demo storefront (www/) in headless Chromium (playwright-core, Debian's /usr/bin/chromium) against
# a real cart-server on an ephemeral port with a temporary database. Screenshots of failures go to
# target/e2e/; `make screenshot` also refreshes docs/storefront.png for the README.
.PHONY: test-e2e screenshot
test-e2e: pkg server | setup-npm
	CART_SERVER_BIN=$(CURDIR)/target/debug/cart-server node --test --test-concurrency=1 tests/e2e/

screenshot: pkg server | setup-npm
	UPDATE_SCREENSHOT=1 CART_SERVER_BIN=$(CURDIR)/target/debug/cart-server node --test --test-concurrency=1 tests/e2e/
