# Charla's commands. The README documents `make run` and `make test`.
CARGO ?= cargo

.PHONY: setup build-app run run-bob run-cli test

## Install system packages, the Rust toolchain and UI packages (only what is missing).
setup:
	./.ci/setup

## Build the desktop app with its UI bundled in (not loaded from a dev server), and the sandbox.
build-app:
	npm --prefix ui run build
	$(CARGO) build -p charla --features tauri/custom-protocol
	$(CARGO) build -p charla-tests --bin charla-sandbox

## Set everything up, start the local sandbox server with demo contacts, and open Charla as alice.
run: setup
	$(MAKE) --no-print-directory build-app
	./.ci/sandbox app alice

## A second window, as bob, on the same sandbox server (start it with `make run` first).
run-bob: build-app
	./.ci/sandbox app bob

## The command-line client as alice on the sandbox server (no window needed).
run-cli: setup
	$(CARGO) build -p charla-tests --bin charla-sandbox -p charla-core --bin charla-cli
	./.ci/sandbox cli alice

## Set everything up and run the whole test suite (what CI runs).
test: setup
	./.ci/test
