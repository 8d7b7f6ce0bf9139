# Charla's commands. The README documents `make run` and `make test`.
CARGO ?= cargo

.PHONY: setup run run-bob test

## Install system packages, the Rust toolchain and UI packages (only what is missing).
setup:
	./.ci/setup

## Set everything up, start the local sandbox server with demo accounts, and open Charla as alice.
run: setup
	$(CARGO) build -p charla-tests --bin charla-sandbox -p charla-core --bin charla-cli
	./.ci/sandbox alice

## A second instance, as bob, on the same sandbox server (run `make run` first).
run-bob:
	$(CARGO) build -p charla-tests --bin charla-sandbox -p charla-core --bin charla-cli
	./.ci/sandbox bob

## Set everything up and run the whole test suite (what CI runs).
test: setup
	./.ci/test
