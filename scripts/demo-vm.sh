#!/bin/bash
# demo-vm.sh - run the test guest in QEMU (TCG, qxl) with SPICE on
# 127.0.0.1:${PORT:-5930} in the foreground, for trying the viewer by hand.
#
#   PORT=5930          SPICE port
#   PASSWORD=secret    require this SPICE password (default: no ticketing)
#   TICK_MS=100        tick period of the guest's console counter
#   Extra arguments are passed to QEMU (e.g. -device qemu-xhci -device usb-tablet).
#
# The guest serial port is this terminal: GUEST lines are printed here and typed
# lines are guest commands (not echoed): freeze, tick, text <s>, pattern 1..3, clear.
# Ctrl-C quits. QMP listens on the socket printed at start.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORT=${PORT:-5930}
OUT=$(bash "$HERE/build-guest.sh")
KERNEL=$OUT/$(cat "$OUT/kernel")
CMDLINE="$(cat "$OUT/cmdline") guest.tick_ms=${TICK_MS:-100}"
RUN=$(mktemp -d /tmp/demo-vm.XXXXXX)
trap 'rm -rf "$RUN"' EXIT

SPICE="port=$PORT,addr=127.0.0.1"
SECRET=()
if [ -n "${PASSWORD:-}" ]; then
  SECRET=(-object "secret,id=sec0,data=$PASSWORD")
  SPICE+=",password-secret=sec0"
else
  SPICE+=",disable-ticketing=on"
fi

echo "spice://127.0.0.1:$PORT" >&2
echo "  remote-viewer spice://127.0.0.1:$PORT    QMP: $RUN/qmp.sock    Ctrl-C quits" >&2
qemu-system-x86_64 -name spice-test-guest \
  -machine pc,accel=tcg -smp 1 -m 256 -nodefaults -no-user-config \
  -vga qxl -display none \
  -kernel "$KERNEL" -initrd "$OUT/initramfs.cpio.gz" -append "$CMDLINE" \
  "${SECRET[@]}" -spice "$SPICE" \
  -device virtio-serial-pci \
  -qmp "unix:$RUN/qmp.sock,server=on,wait=off" \
  -chardev stdio,id=ser0,signal=on -serial chardev:ser0 \
  "$@"
