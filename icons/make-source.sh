#!/bin/sh
# Draws icon-source.png (1024x1024), Charla's app icon, with ImageMagick. The same shapes, on a
# 64x64 grid (here scaled by 16), are ui/public/favicon.svg and ui/src/lib/components/Logo.svelte.
# Then, in ui/: `npx tauri icon ../icons/icon-source.png -o ../icons --png 32,64,128,256,512`
# regenerates the PNG sizes that src-tauri/tauri.conf.json lists (Linux window, tray, bundle).
set -eu
cd "$(dirname "$0")"
teal='#0f766e'
convert -size 1024x1024 xc:none \
  -fill "$teal" -draw 'roundrectangle 0,0 1023,1023 224,224' \
  -fill white -draw "path 'M256 224h512a112 112 0 0 1 112 112v272a112 112 0 0 1-112 112H480l-160 128v-128h-64a112 112 0 0 1-112-112V336a112 112 0 0 1 112-112z'" \
  -fill "$teal" \
  -draw 'circle 352,472 352,528' -draw 'circle 512,472 512,528' -draw 'circle 672,472 672,528' \
  -strip PNG32:icon-source.png
