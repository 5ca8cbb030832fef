#!/usr/bin/env bash
# One-time machine set-up, shared by the README and .ci/run: the Debian
# packages the demo and the tests need, then the npm dependencies (no Electron
# binary: its postinstall download is skipped; see README). Works as root
# (apt-get directly) and as a user with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  qemu-system-x86          # SPICE server under test (QEMU 7.2 + libspice-server 0.15.1)
  busybox-static cpio kmod xz-utils zstd   # test guest builder
  chromium                 # Playwright e2e (executablePath /usr/bin/chromium)
  libpcsclite-dev pkg-config   # builds the pcsclite npm addon
  imagemagick libjpeg-turbo-progs   # independent JPEG encoders/decoders for decoder tests
  openssl iproute2 gcc libc6-dev
  clang lld                # WebAssembly decoders (renderer/display/decoders/wasm, scripts/build-wasm.mjs)
  websockify               # WebSocket proxy (path token) in front of QEMU for the ws/wss tests
  genisoimage              # ISO images for the shared-CD (usbredir) tests
  pcscd vsmartcard-vpcd vsmartcard-vpicc python3-virtualsmartcard python3-pycryptodome   # smartcard rig (virtual reader + cards)
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly   # spice-server's stream encoders: videoconvert + appsrc/appsink, vp8enc/vp9enc, x264enc (video e2e test)
  xvfb virt-viewer libx11-dev libxdamage-dev   # bench:e2e: a headful X per client, remote-viewer to compare with, the X DAMAGE probe
)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: not root and no sudo: install as root: apt-get install ${PKGS[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# the guest builder resolves and downloads the Debian kernel with apt: it needs package lists
if [ ${#missing[@]} -gt 0 ] || ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
  "${SUDO[@]}" apt-get update -q
fi
if [ ${#missing[@]} -gt 0 ]; then
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

export ELECTRON_SKIP_BINARY_DOWNLOAD=1
npm ci --no-fund --no-audit
