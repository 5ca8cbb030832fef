#!/bin/bash
# build-guest.sh - build (or reuse) the tiny QEMU test guest used by the
# integration/e2e tests, the demo and the migration tests.
#
# Prints the output directory on stdout (logs go to stderr). The output lives in
# $GUEST_CACHE/<key> (default <repo>/.cache/guest/<key>), where <key> hashes this
# script, scripts/guest/* and the overrides below, so repeated runs are a no-op.
#
# Output:
#   vmlinuz             Debian kernel (linux-image-<ver>-amd64, the package the
#                       linux-image-amd64 metapackage points at)
#   vmlinux             its uncompressed ELF (PVH boot, seconds faster under TCG)
#   kernel              name of the file to pass to QEMU -kernel (vmlinux or vmlinuz)
#   initramfs.cpio.gz   busybox-static + modules + /init + guest-helper + patterns
#   cmdline             the kernel command line for QEMU's -append
#   patterns/N.raw      the full-screen images the guest's "pattern N" writes to
#                       /dev/fb0 (raw XRGB8888 LE, FB_STRIDE bytes per row)
#   patterns/geometry   "WIDTH HEIGHT STRIDE BPP" they were made for
#   MANIFEST            package versions, module list, sha256 of the outputs
#
# Everything comes from Debian packages (apt-get download + dpkg -x, .debs cached
# in $GUEST_CACHE/debs) plus our own C helpers built with the host gcc. Guest
# behaviour: see scripts/guest/init. No 9p: QEMU refuses to migrate with one mounted.
#
# Host tools (Debian packages): apt, dpkg, gcc + libc6-dev (static glibc),
# cpio, gzip, xz-utils, zstd, coreutils, findutils, util-linux (flock).
#
# Env overrides:
#   GUEST_CACHE   cache dir                         (default <repo>/.cache/guest)
#   KERNEL_PKG    exact kernel image package        (default: dependency of linux-image-amd64)
#   FB_WIDTH / FB_HEIGHT   framebuffer the patterns are made for (default 1024x768,
#                 the qxl DRM driver's default mode; stride = width*4, 32 bpp)
#   SOURCE_DATE_EPOCH  timestamp stamped into the cpio (default 1700000000)
#   GUEST_AGENT   1 = the agent flavour: adds Xvfb, xclip, spice-vdagentd and
#                 spice-vdagent (scripts/guest/agent-rootfs.sh); /init starts them
#                 when QEMU offers the com.redhat.spice.0 port. Its own cache key.
#   GUEST_SOUND=1 the sound flavour: adds the HDA sound modules (snd-hda-intel,
#                 snd-hda-codec-generic for QEMU's hda-duplex) and aplay/arecord
#                 and amixer (alsa-utils, with libasound2 and its /usr/share/alsa config);
#                 built into $GUEST_CACHE/<key>-sound so the default build is untouched
#   GUEST_SMARTCARD=1  smartcard flavour (its own cache key): pcscd + libccid + opensc-tool
#                 with their libraries, and the guest command "sc" (scripts/guest/sc)
#   GUEST_WEBDAV=1  shared-folder flavour (its own cache key): Debian's spice-webdavd with its
#                 libraries, an LD_PRELOAD shim that stubs its mDNS announcement
#                 (scripts/guest/noavahi.c), and the guest command "dav" (scripts/guest/dav)
#   GUEST_USB_GADGET=1  USB gadget flavour (its own cache key): dummy_hcd + configfs + libcomposite
#                 + usb_f_ss_lb + usbtest, Debian's systemd-udevd (libusb's hotplug hears udevd's
#                 events, not the kernel's), /usr/bin/node with its libraries, the project's
#                 node_modules/usb and the bundle of test/guest/usb-driver.ts (our NodeUsbBackend;
#                 scripts/build-usb-driver.mjs), and the guest command "usbg" (scripts/guest/usbg).
#                 Needs QEMU -m 1024 (node is ~86 MB unpacked in the initramfs).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${GUEST_CACHE:-$REPO/.cache/guest}
EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
FB_WIDTH=${FB_WIDTH:-1024}
FB_HEIGHT=${FB_HEIGHT:-768}
FB_STRIDE=$((FB_WIDTH * 4))

log() { echo "[build-guest] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# one flavour at a time (each test boots the one it needs); hashed into the key
# and written to $OUT/flavour, so each flavour's clean-up keeps the others' builds
AGENT=${GUEST_AGENT:-0}
SOUND=${GUEST_SOUND:-0}
SMARTCARD=${GUEST_SMARTCARD:-0}
WEBDAV=${GUEST_WEBDAV:-0}
USBG=${GUEST_USB_GADGET:-0}
FLAVOUR=base
[ "$AGENT" = 1 ] && FLAVOUR=agent
[ "$SOUND" = 1 ] && { [ "$FLAVOUR" = base ] || die "GUEST_$FLAVOUR and GUEST_SOUND: one flavour at a time"; FLAVOUR=sound; }
[ "$SMARTCARD" = 1 ] && { [ "$FLAVOUR" = base ] || die "GUEST_$FLAVOUR and GUEST_SMARTCARD: one flavour at a time"; FLAVOUR=smartcard; }
[ "$WEBDAV" = 1 ] && { [ "$FLAVOUR" = base ] || die "GUEST_$FLAVOUR and GUEST_WEBDAV: one flavour at a time"; FLAVOUR=webdav; }
[ "$USBG" = 1 ] && { [ "$FLAVOUR" = base ] || die "GUEST_$FLAVOUR and GUEST_USB_GADGET: one flavour at a time"; FLAVOUR=usbgadget; }

# Modules wanted in the guest (dependencies are resolved from each module's
# .modinfo "depends=" field, so no depmod is needed). i8042 and atkbd are
# built into the Debian kernel; psmouse and evdev are modules.
WANT_MODULES="
  qxl
  virtio_pci virtio_console
  psmouse evdev
  ehci-pci uhci-hcd ohci-pci xhci-pci
  usbhid hid-generic
  usb-storage sd_mod sr_mod isofs
"
# the codec driver first: the controller binds its codecs while probing, and the
# guest has no modprobe to load a codec driver on demand
[ "$SOUND" = 1 ] && WANT_MODULES="$WANT_MODULES snd-hda-codec-generic snd-hda-intel"
# a software USB device: the gadget side (configfs + SourceSink) on dummy_hcd's UDC, whose
# host side enumerates it; usbtest is the kernel driver the backend must detach
[ "$USBG" = 1 ] && WANT_MODULES="$WANT_MODULES dummy_hcd configfs libcomposite usb_f_ss_lb usbtest"

# Kernel command line: serial console only (so kernel messages never land on
# the framebuffer), Terminus 16x32 font (64x24 text cells at 1024x768), no
# cursor, trims for TCG boot speed.
CMDLINE="console=ttyS0,115200 loglevel=4 fbcon=font:TER16x32 vt.global_cursor_default=0 mitigations=off nowatchdog tsc=reliable no_timer_check random.trust_cpu=on cryptomgr.notests rdinit=/init"

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# usbgadget: the driver bundle is built first and hashed into the key (it contains
# main/devices/usb/*), as are the node binary and node-usb the guest gets
USB_DRIVER=
USB_NODE=${USB_NODE:-/usr/bin/node}
USB_MOD=$REPO/node_modules/usb
if [ "$USBG" = 1 ]; then
  [ -x "$USB_NODE" ] || die "usbgadget: no node at $USB_NODE"
  [ -f "$USB_MOD/prebuilds/linux-x64/node.napi.glibc.node" ] || die "usbgadget: $USB_MOD has no linux-x64 prebuild (npm ci first)"
  USB_DRIVER=$(mktemp "$CACHE/.usb-driver.XXXXXX")
  trap 'rm -f "$USB_DRIVER"' EXIT
  node "$HERE/build-usb-driver.mjs" "$USB_DRIVER" >&2 || die "usbgadget: bundling test/guest/usb-driver.ts failed"
fi
KEY=$( {
  cat "$HERE/build-guest.sh"
  for f in $(cd "$HERE/guest" && LC_ALL=C ls); do echo "== $f"; cat "$HERE/guest/$f"; done
  echo "KERNEL_PKG=${KERNEL_PKG:-} FB=${FB_WIDTH}x${FB_HEIGHT} EPOCH=$EPOCH FLAVOUR=$FLAVOUR"
  if [ "$USBG" = 1 ]; then
    cat "$USB_DRIVER"
    echo "node $("$USB_NODE" --version) $(stat -c %s-%Y "$USB_NODE")"
    sha256sum "$USB_MOD/package.json" "$USB_MOD/prebuilds/linux-x64/node.napi.glibc.node"
  fi
} | sha256sum | cut -c1-16)
OUT=$CACHE/$KEY
if [ -f "$OUT/DONE" ]; then echo "$OUT"; exit 0; fi

# one builder at a time (parallel test processes call this concurrently)
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$OUT/DONE" ]; then echo "$OUT"; exit 0; fi

for t in apt-get apt-cache dpkg dpkg-deb tar gzip sha256sum find sort gcc xz zstd readelf; do
  command -v "$t" >/dev/null || die "missing tool: $t"
done
# (not "cpio --help | grep -q": under pipefail grep's early exit SIGPIPEs cpio and fails the check at random)
case "$(cpio --help 2>&1)" in *--reproducible*) ;; *) die "GNU cpio needed (apt-get install cpio)" ;; esac

WORK=$CACHE/build-$KEY
rm -rf "$WORK" "$OUT.tmp"
mkdir -p "$CACHE/debs" "$WORK" "$OUT.tmp/patterns"

# ---- 1. fetch packages ------------------------------------------------------
if [ -z "${KERNEL_PKG:-}" ]; then
  KERNEL_PKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
               awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [ -n "$KERNEL_PKG" ] || die "cannot resolve linux-image-amd64 (run apt-get update?)"
fi
PKGS="$KERNEL_PKG busybox-static"
SOUND_PKGS="alsa-utils libasound2 libasound2-data"
[ "$SOUND" = 1 ] && PKGS="$PKGS $SOUND_PKGS"
log "packages: $PKGS"
(
  cd "$CACHE/debs"
  for p in $PKGS; do
    if ! ls "${p}"_*.deb >/dev/null 2>&1; then
      # APT::Sandbox::User=root: avoid the _apt permission warning
      apt-get -q -o APT::Sandbox::User=root download "$p" >&2
    fi
  done
)
KDEB=$(ls "$CACHE/debs/${KERNEL_PKG}"_*.deb | sort -V | tail -1)
BDEB=$(ls "$CACHE/debs/"busybox-static_*.deb | sort -V | tail -1)

mkdir -p "$WORK/x/kernel" "$WORK/x/busybox"
# only the kernel image and modules, minus the big trees no guest module needs
# (a missing dependency still fails loudly in visit() below)
M='./lib/modules/*/kernel'
SOUND_EXCLUDE=--exclude="$M/sound"
[ "$SOUND" = 1 ] && SOUND_EXCLUDE=--exclude="$M/sound/soc"
dpkg-deb --fsys-tarfile "$KDEB" | tar -x -C "$WORK/x/kernel" --wildcards './boot/vmlinuz-*' './lib/modules/*' \
  "$SOUND_EXCLUDE" --exclude="$M/net" --exclude="$M/drivers/net" --exclude="$M/drivers/media" \
  --exclude="$M/drivers/infiniband" --exclude="$M/drivers/staging" --exclude="$M/drivers/gpu/drm/amd" \
  --exclude="$M/drivers/gpu/drm/nouveau" --exclude="$M/drivers/gpu/drm/i915" --exclude="$M/drivers/gpu/drm/radeon"
dpkg -x "$BDEB" "$WORK/x/busybox"
KVER=$(ls "$WORK/x/kernel/lib/modules" | head -1)
[ -n "$KVER" ] || die "no modules dir in $KDEB"
MODDIR="$WORK/x/kernel/lib/modules/$KVER"
BB="$WORK/x/busybox/bin/busybox"
[ -x "$BB" ] || die "busybox not found in $BDEB"
log "kernel $KVER"

# ---- 2. resolve module dependencies ----------------------------------------
declare -A MODPATH   # module name ('-' -> '_') -> path relative to MODDIR
while IFS= read -r f; do
  n=$(basename "$f"); n=${n%%.ko*}; n=${n//-/_}
  MODPATH[$n]=${f#"$MODDIR"/}
done < <(find "$MODDIR/kernel" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' | sort)

modinfo_field() { # file field
  local f=$1 k=$2
  case "$f" in
    *.ko.xz)  xz -dc "$f" ;;
    *.ko.zst) zstd -qdc "$f" ;;
    *)        cat "$f" ;;
  esac | tr '\0' '\n' | sed -n "s/^$k=//p" | head -1
}

declare -A SEEN
ORDER=()
visit() {
  local n=${1//-/_} d deps
  [ -n "${SEEN[$n]:-}" ] && return 0
  SEEN[$n]=1
  local rel=${MODPATH[$n]:-}
  if [ -z "$rel" ]; then
    if grep -q "/${n}.ko\$\|/${1}.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; then
      log "  $1: built-in"; return 0
    fi
    die "module $1 not found"
  fi
  deps=$(modinfo_field "$MODDIR/$rel" depends)
  for d in ${deps//,/ }; do visit "$d"; done
  ORDER+=("$rel")
}
for m in $WANT_MODULES; do visit "$m"; done
log "modules (${#ORDER[@]}): $(for r in "${ORDER[@]}"; do basename "$r"; done | tr '\n' ' ')"

# ---- 3. our own programs ---------------------------------------------------
gcc -static -Os -Wall -Wextra -o "$WORK/guest-helper" "$HERE/guest/guest-helper.c" -lm
strip "$WORK/guest-helper" 2>/dev/null || true
gcc -O2 -Wall -Wextra -o "$WORK/mkpattern" "$HERE/guest/mkpattern.c"
for n in 1 2 3; do
  "$WORK/mkpattern" "$n" "$FB_WIDTH" "$FB_HEIGHT" "$FB_STRIDE" "$OUT.tmp/patterns/$n.raw"
done
echo "$FB_WIDTH $FB_HEIGHT $FB_STRIDE 32" > "$OUT.tmp/patterns/geometry"

# ---- 4. assemble the initramfs tree ----------------------------------------
R="$WORK/root"
mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,etc,patterns,lib/modules/"$KVER"}
cp "$BB" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
cp "$WORK/guest-helper" "$R/bin/guest-helper"
cp "$OUT.tmp/patterns/"* "$R/patterns/"
: > "$R/etc/modules.list"
for r in "${ORDER[@]}"; do
  mkdir -p "$R/lib/modules/$KVER/$(dirname "$r")"
  case "$r" in
    *.ko.xz)  xz -dc "$MODDIR/$r" > "$R/lib/modules/$KVER/${r%.xz}";  r=${r%.xz} ;;
    *.ko.zst) zstd -qdc "$MODDIR/$r" > "$R/lib/modules/$KVER/${r%.zst}"; r=${r%.zst} ;;
    *)        cp "$MODDIR/$r" "$R/lib/modules/$KVER/$r" ;;
  esac
  echo "$KVER/$r" >> "$R/etc/modules.list"
done
install -m 755 "$HERE/guest/init" "$R/init"
if [ "$AGENT" = 1 ]; then
  bash "$HERE/guest/agent-rootfs.sh" "$R" "$CACHE/debs" "$WORK"
fi
if [ "$SOUND" = 1 ]; then
  # aplay (arecord is the same program) with every library it loads and ALSA's config
  A="$WORK/x/alsa"
  mkdir -p "$A"
  for p in $SOUND_PKGS; do dpkg -x "$(ls "$CACHE/debs/${p}"_*.deb | sort -V | tail -1)" "$A"; done
  mkdir -p "$R/lib64" "$R/lib/x86_64-linux-gnu" "$R/usr/share"
  cp "$A/usr/bin/aplay" "$A/usr/bin/amixer" "$R/bin/"
  ln -s aplay "$R/bin/arecord"
  cp -r "$A/usr/share/alsa" "$R/usr/share/alsa"
  # ldd on the host's loader, with the extracted libasound first; the rest are the
  # host's Debian libc6 files. libgcc_s is dlopen'ed by glibc (thread cancel), ldd misses it.
  libs=$(LD_LIBRARY_PATH="$A/usr/lib/x86_64-linux-gnu" ldd "$A/usr/bin/aplay" "$A/usr/bin/amixer" | awk '/=> \//{print $3} /^[ \t]*\/lib64\//{print $1}')
  for l in $(echo $libs | tr ' ' '\n' | sort -u) /lib/x86_64-linux-gnu/libgcc_s.so.1; do
    case "$l" in
      /lib64/*) cp -L "$l" "$R/lib64/" ;;
      *) cp -L "$l" "$R/lib/x86_64-linux-gnu/" ;;
    esac
  done
  [ -e "$R/lib64/ld-linux-x86-64.so.2" ] || die "aplay's loader not found by ldd"
  ln -s ../lib "$R/usr/lib"
fi

# deb_copy ROOT REL: copies ROOT/REL (symlinks followed) into the initramfs at REL,
# and every library its NEEDED entries name, found under ROOT (packages unpacked
# there). COPIED counts what was copied, per ROOT.
declare -A COPIED
deb_copy() {
  local root=$1 rel=$2 n d found
  [ -n "${COPIED[$root:$rel]:-}" ] && return 0
  COPIED[$root:$rel]=1
  mkdir -p "$R/$(dirname "$rel")"
  cp -L "$root/$rel" "$R/$rel"
  for n in $(readelf -d "$root/$rel" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    found=
    for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu; do
      if [ -e "$root/$d/$n" ]; then found=$d/$n; break; fi
    done
    [ -n "$found" ] || die "guest: $rel needs $n, which none of the packages unpacked in $root has"
    deb_copy "$root" "$found"
  done
}
copied() { local k n=0; for k in "${!COPIED[@]}"; do [[ $k == "$1:"* ]] && n=$((n + 1)); done; echo $n; }

# ---- smartcard flavour (optional, GUEST_SMARTCARD=1) -------------------------
# The guest's own PC/SC stack for QEMU's usb-ccid reader: pcscd + libccid
# (libusb over /dev/bus/usb, no udevd) and opensc-tool, from Debian packages.
# Every ELF's DT_NEEDED is resolved against the unpacked packages (a missing
# one fails the build, naming it); libgcc_s.so.1 is added by hand: glibc
# dlopens it for pthread_cancel (pcscd aborts on a client disconnect without
# it) and no NEEDED entry names it.
if [ "$SMARTCARD" = 1 ]; then
  SC_PKGS="pcscd libpcsclite1 libccid libusb-1.0-0 libudev1 libsystemd0 opensc opensc-pkcs11
    libc6 libgcc-s1 libreadline8 libtinfo6 libssl3 zlib1g libglib2.0-0 libcap2 libgcrypt20
    libgpg-error0 liblz4-1 liblzma5 libzstd1 libffi8 libpcre2-8-0 libmount1 libselinux1 libblkid1"
  SCX="$WORK/x/sc"
  mkdir -p "$SCX"
  (
    cd "$CACHE/debs"
    for p in $SC_PKGS; do
      ls "${p}"_*.deb >/dev/null 2>&1 || apt-get -q -o APT::Sandbox::User=root download "$p" >&2
    done
  )
  for p in $SC_PKGS; do dpkg -x "$(ls "$CACHE/debs/${p}"_*.deb | sort -V | tail -1)" "$SCX"; done
  CCID=usr/lib/pcsc/drivers/ifd-ccid.bundle
  for f in usr/sbin/pcscd usr/bin/opensc-tool usr/lib/x86_64-linux-gnu/libpcsclite.so.1 \
           $CCID/Contents/Linux/libccid.so lib/x86_64-linux-gnu/libgcc_s.so.1 \
           lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
    deb_copy "$SCX" "$f"
  done
  cp "$SCX/$CCID/Contents/Info.plist" "$R/$CCID/Contents/Info.plist"
  mkdir -p "$R/lib64" "$R/run/pcscd" "$R/etc/guest-cmd"
  ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$R/lib64/ld-linux-x86-64.so.2"
  install -m 755 "$HERE/guest/sc" "$R/etc/guest-cmd/sc"
  log "smartcard flavour: pcscd, libccid, opensc-tool + $(copied "$SCX") files"
fi
# ---- end smartcard flavour ---------------------------------------------------

# ---- webdav flavour (optional, GUEST_WEBDAV=1) -------------------------------
# spice-webdavd (the guest end of the shared folder) with every library its
# NEEDED entries name, resolved in the unpacked packages, plus libgcc_s.so.1
# (glibc dlopens it, no NEEDED names it). It announces its port through
# avahi and exits without an avahi-daemon: noavahi.so (LD_PRELOAD) stubs that.
if [ "$WEBDAV" = 1 ]; then
  WD_PKGS="spice-webdavd libavahi-gobject0 libavahi-client3 libavahi-common3 libavahi-glib1 libdbus-1-3
    libsystemd0 libglib2.0-0 libc6 libgcc-s1 zlib1g libffi8 libpcre2-8-0 libmount1 libselinux1 libblkid1
    libcap2 libgcrypt20 libgpg-error0 liblz4-1 liblzma5 libzstd1"
  WDX="$WORK/x/webdav"
  mkdir -p "$WDX"
  (
    cd "$CACHE/debs"
    missing=
    for p in $WD_PKGS; do ls "${p}"_*.deb >/dev/null 2>&1 || missing="$missing $p"; done
    [ -z "$missing" ] || apt-get -q -o APT::Sandbox::User=root download $missing >&2
  )
  for p in $WD_PKGS; do dpkg -x "$(ls "$CACHE/debs/${p}"_*.deb | sort -V | tail -1)" "$WDX"; done
  for f in usr/sbin/spice-webdavd lib/x86_64-linux-gnu/libgcc_s.so.1 lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
    deb_copy "$WDX" "$f"
  done
  mkdir -p "$R/lib64" "$R/usr/lib" "$R/usr/sbin" "$R/etc/guest-cmd"
  ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$R/lib64/ld-linux-x86-64.so.2"
  ln -sf /usr/sbin/spice-webdavd "$R/sbin/spice-webdavd"
  gcc -shared -fPIC -O2 -Wall -Wextra -o "$R/usr/lib/noavahi.so" "$HERE/guest/noavahi.c"
  install -m 755 "$HERE/guest/dav" "$R/etc/guest-cmd/dav"
  log "webdav flavour: spice-webdavd + $(copied "$WDX") files"
fi
# ---- end webdav flavour ------------------------------------------------------

# ---- usbgadget flavour (optional, GUEST_USB_GADGET=1) -----------------------
# node-usb against a kernel USB device (devices.md B.7): node (stripped: its debug
# info is most of its size) with node-usb's prebuilt binding, each resolved against
# the unpacked Debian packages like the other flavours, plus systemd-udevd: libusb
# is built with udev and hears hotplug only from udevd's netlink group.
if [ "$USBG" = 1 ]; then
  UB_PKGS="udev libudev1 libkmod2 libacl1 libblkid1 libcap2 libselinux1 libpcre2-8-0 liblzma5 libzstd1 libssl3
    libc6 libgcc-s1 libstdc++6"
  UBX="$WORK/x/usbg"
  mkdir -p "$UBX"
  (
    cd "$CACHE/debs"
    missing=
    for p in $UB_PKGS; do ls "${p}"_*.deb >/dev/null 2>&1 || missing="$missing $p"; done
    [ -z "$missing" ] || apt-get -q -o APT::Sandbox::User=root download $missing >&2
  )
  for p in $UB_PKGS; do dpkg -x "$(ls "$CACHE/debs/${p}"_*.deb | sort -V | tail -1)" "$UBX"; done
  D=opt/usbdrv
  NB=node_modules/usb/prebuilds/linux-x64/node.napi.glibc.node
  mkdir -p "$UBX/usr/bin" "$UBX/$D/$(dirname "$NB")"
  strip -o "$UBX/usr/bin/node" "$USB_NODE" 2>/dev/null || cp "$USB_NODE" "$UBX/usr/bin/node"
  cp "$USB_MOD/prebuilds/linux-x64/node.napi.glibc.node" "$UBX/$D/$NB"
  for f in usr/bin/node "$D/$NB" bin/udevadm lib/x86_64-linux-gnu/libgcc_s.so.1 lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
    deb_copy "$UBX" "$f"
  done
  # node-usb's JavaScript (its binding is found by node-gyp-build from the package dir)
  cp "$USB_MOD/package.json" "$R/$D/node_modules/usb/"
  cp -r "$USB_MOD/dist" "$R/$D/node_modules/usb/dist"
  cp -r "$REPO/node_modules/node-gyp-build" "$R/$D/node_modules/node-gyp-build"
  cp "$USB_DRIVER" "$R/$D/usb-driver.cjs"
  mkdir -p "$R/lib64" "$R/lib/systemd" "$R/run" "$R/etc/guest-cmd"
  ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$R/lib64/ld-linux-x86-64.so.2"
  # udevadm is udevd when called by that name (as Debian installs it)
  ln -sf /bin/udevadm "$R/lib/systemd/systemd-udevd"
  install -m 755 "$HERE/guest/usbg" "$R/etc/guest-cmd/usbg"
  log "usbgadget flavour: node $("$USB_NODE" --version), node-usb $(sed -n 's/^ *"version": "\(.*\)".*/\1/p' "$USB_MOD/package.json"), udevd + $(copied "$UBX") files"
fi
# ---- end usbgadget flavour ---------------------------------------------------

# ---- 5. pack (reproducible: sorted names, fixed mtimes, uid/gid 0) ---------
find "$R" -exec touch -h -d "@$EPOCH" {} +
( cd "$R" && find . -mindepth 1 | LC_ALL=C sort |
  cpio --quiet -o -H newc -R 0:0 --reproducible 2>/dev/null ) |
  gzip -n -6 > "$OUT.tmp/initramfs.cpio.gz"
cp "$WORK/x/kernel/boot/vmlinuz-$KVER" "$OUT.tmp/vmlinuz"
# The bzImage decompresses its xz payload itself, which takes seconds under TCG.
# QEMU boots the uncompressed ELF vmlinux directly through its PVH entry point
# (Xen note PHYS32_ENTRY = 0x12), so unpack it here once; fall back to vmlinuz.
KERNEL=vmlinuz
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$OUT.tmp/vmlinuz" | head -1 | cut -d: -f1 || true)
if [ -n "$off" ]; then
  tail -c +$((off + 1)) "$OUT.tmp/vmlinuz" | xz -dc > "$OUT.tmp/vmlinux" 2>/dev/null || true
  if readelf -n "$OUT.tmp/vmlinux" 2>/dev/null | grep -q '(0x00000012)'; then
    KERNEL=vmlinux
  else
    rm -f "$OUT.tmp/vmlinux"
  fi
fi
echo "$KERNEL" > "$OUT.tmp/kernel"
log "kernel image for QEMU: $KERNEL"
echo "$CMDLINE" > "$OUT.tmp/cmdline"

{
  echo "key: $KEY"
  echo "kernel_pkg: $(basename "$KDEB")"
  echo "busybox_pkg: $(basename "$BDEB")"
  echo "kver: $KVER"
  echo "qemu_kernel: $KERNEL"
  echo "cmdline: $CMDLINE"
  echo "fb: ${FB_WIDTH}x${FB_HEIGHT} stride $FB_STRIDE bpp 32"
  echo "flavour: $FLAVOUR"
  [ "$AGENT" = 1 ] && cat "$WORK/agent-manifest"
  echo "modules:"; for r in "${ORDER[@]}"; do echo "  $r"; done
  echo "sha256:"
  (cd "$OUT.tmp" && sha256sum vmlinu? initramfs.cpio.gz patterns/*.raw | sed 's/^/  /')
} > "$OUT.tmp/MANIFEST"
echo "$FLAVOUR" > "$OUT.tmp/flavour"
date -u +%FT%TZ > "$OUT.tmp/DONE"
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
rm -rf "$WORK"
# drop outputs of older script versions of this flavour (keep the .deb cache and
# the other flavour's build); only those older than an hour: a test process
# started just before may still be booting one
for d in "$CACHE"/*; do
  b=$(basename "$d")
  [ "$(cat "$d/flavour" 2>/dev/null || echo base)" = "$FLAVOUR" ] || continue
  [[ "$b" =~ ^[0-9a-f]{16}$ ]] && [ "$b" != "$KEY" ] && [ -n "$(find "$d" -maxdepth 0 -mmin +60)" ] && rm -rf "$d"
done
log "done: $OUT ($(du -h "$OUT/initramfs.cpio.gz" | cut -f1) initramfs)"
echo "$OUT"
