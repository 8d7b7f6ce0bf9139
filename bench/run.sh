#!/usr/bin/env bash
# Runs bench/run.mjs (every benchmark of issue 6, one table) in a private D-Bus session on a
# private X display (Xvfb) with a notification daemon, like the end-to-end tests (.ci/e2e).
# `make bench` builds the release binaries first; arguments go to bench/run.mjs, e.g.
#
#   bench/run.sh --runs 5 --minutes 10
#   bench/run.sh --only core,flood --runs 3
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --in-session ]; then
  shift
  : "${DISPLAY:?no X display}" "${DBUS_SESSION_BUS_ADDRESS:?no session bus}"
  work=$(mktemp -d "${TMPDIR:-/tmp}/charla-bench-session.XXXXXX")
  dunst >"$work/dunst.log" 2>&1 &
  dunst_pid=$!
  cleanup() {
    kill "$dunst_pid" 2>/dev/null || true
    wait "$dunst_pid" 2>/dev/null || true
    rm -rf "$work"
  }
  trap cleanup EXIT
  # Secret Service for the app's remembered password (its launch to online is a returning
  # user's): a fresh keyring, unlocked, as in .ci/e2e.
  if command -v gnome-keyring-daemon >/dev/null 2>&1; then
    mkdir -p "$work/keyring-home"
    eval "$(printf bench | HOME="$work/keyring-home" gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)" || true
    [ -n "${GNOME_KEYRING_CONTROL:-}" ] && export GNOME_KEYRING_CONTROL
  fi
  # The app's environment as the e2e tests and the shell's defaults use it.
  export WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1
  # Floods and the soak wait inside the page for minutes.
  export CHARLA_E2E_COMMAND_TIMEOUT_MS=900000
  export PATH="$HOME/.cargo/bin:$PATH"
  # Where cargo put the release binaries; bench/run.mjs finds them there.
  CARGO_TARGET_DIR=$(.ci/target-dir)
  export CARGO_TARGET_DIR
  node bench/run.mjs "$@"
  exit
fi

export PATH="$HOME/.cargo/bin:$PATH"
command -v tauri-driver >/dev/null 2>&1 || {
  echo "bench: tauri-driver is missing (make setup installs it)" >&2
  exit 1
}
exec dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" "$0" --in-session "$@"
