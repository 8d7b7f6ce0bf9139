#!/usr/bin/env bash
# Cold start without WebDriver: a cross-check of bench/run.mjs's first-contentful-paint figure,
# which is taken in an app started by WebKitWebDriver (automation mode). Starts the release app
# (fresh profile, login screen) RUNS times on a private X display and polls the screen with
# ImageMagick's `import` (about 65 ms per poll on the 2-core machine), printing when the screen
# changed, in ms after the spawn: the window appears, then the page's paints, then it settles.
#
#   bench/screen-start.sh [RUNS]      (default 6; needs `make bench`'s release build)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --in-session ]; then
  runs=$2 app=$3
  export WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1
  for run in $(seq "$runs"); do
    home=$(mktemp -d "${TMPDIR:-/tmp}/charla-screen-start.XXXXXX")
    start=$(date +%s%3N)
    HOME=$home XDG_DATA_HOME=$home/data XDG_CONFIG_HOME=$home/config XDG_CACHE_HOME=$home/cache \
      "$app" >/dev/null 2>&1 &
    pid=$!
    last='' changes=''
    while [ $(($(date +%s%3N) - start)) -lt 2500 ]; do
      sum=$(import -window root -depth 8 gray:- 2>/dev/null | md5sum | cut -c1-8)
      if [ "$sum" != "$last" ]; then
        changes="$changes $(($(date +%s%3N) - start))"
        last=$sum
      fi
    done
    echo "run $run: screen changed at (ms):$changes"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$home"
    sleep 1
  done
  exit
fi

command -v import >/dev/null || { echo "screen-start: ImageMagick's import is missing" >&2; exit 1; }
app="$(.ci/target-dir)/release/charla"
[ -x "$app" ] || { echo "screen-start: $app is missing (make bench builds it)" >&2; exit 1; }
exec dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" "$0" --in-session "${1:-6}" "$app" 2>/dev/null
