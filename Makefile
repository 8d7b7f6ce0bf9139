# Charla's commands. The README documents `make run` and `make test`.
CARGO ?= cargo

.PHONY: setup build-app run run-bob run-cli test bench

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
	$(CARGO) build -p charla-tests --bin charla-sandbox -p charla-app --bin charla-cli
	./.ci/sandbox cli alice

## Set everything up and run the whole test suite (what CI runs).
test: setup
	./.ci/test

## Build the release binaries once, then run every benchmark (bench/run.mjs) and print one table.
## Options for bench/run.mjs go in BENCH_ARGS, e.g. `make bench BENCH_ARGS="--runs 5 --minutes 10"`.
bench: setup
	npm --prefix ui run build
	$(CARGO) build --release --locked -p charla --features tauri/custom-protocol \
		-p charla-tests -p charla-app --bin charla --bin charla-bench-server --bin charla-cli
	$(CARGO) bench --locked -p charla-core --bench core --no-run
	./bench/run.sh $(BENCH_ARGS)
