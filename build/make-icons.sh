#!/usr/bin/env bash
# Regenerates build/icons/*.png (and icon.png for Windows/macOS conversion by
# electron-builder) with ImageMagick: a monitor with a blue screen and a
# "play" mark. The PNGs are committed; run this only to change the artwork.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p icons
convert -size 512x512 xc:none \
  -fill '#2d2e31' -draw 'roundrectangle 32,56 480,392 36,36' \
  -fill '#1a73e8' -draw 'roundrectangle 64,88 448,360 12,12' \
  -fill '#e8eaed' -draw 'polygon 216,164 216,284 320,224' \
  -fill '#2d2e31' -draw 'rectangle 224,392 288,440' \
  -fill '#2d2e31' -draw 'roundrectangle 152,432 360,464 12,12' \
  icon.png
for s in 16 24 32 48 64 128 256 512; do
  convert icon.png -resize "${s}x${s}" -strip "icons/${s}x${s}.png"
done
