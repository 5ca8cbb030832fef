#!/bin/bash
# agent-rootfs.sh ROOT DEBS WORK - adds the guest-agent stack to the initramfs
# tree ROOT (called by build-guest.sh when GUEST_AGENT=1):
#   Xvfb (+ xkbcomp and the xkb data it compiles keymaps from), xclip,
#   spice-vdagentd (system daemon) and spice-vdagent (X session agent).
# Everything comes from Debian packages: the Depends closure of those packages
# (lib* only: no perl, systemd, dbus daemons) is downloaded into DEBS, unpacked
# in WORK, and only the shared objects the binaries really need (their NEEDED
# entries, recursively) are copied into ROOT/usr/lib/x86_64-linux-gnu.
# dlopen()ed libraries are not in NEEDED: libgcc_s.so.1 (glibc's pthread_cancel
# loads it) is added by name.
set -euo pipefail
R=$1 DEBS=$2 W=$3
log() { echo "[agent-rootfs] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

TOP="spice-vdagent xvfb xclip x11-xkb-utils xkb-data xserver-common libgcc-s1 zlib1g"
# the recursive Depends closure, minus what a library-only copy never uses
CLOSURE=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
            --no-replaces --no-enhances --no-pre-depends $TOP 2>/dev/null |
          grep -E '^[a-z0-9]' | sort -u |
          grep -E '^lib' | grep -vE -- '-(common|data|bin|doc|dev)$|^lib(gl1-mesa-dri|llvm|z3|perl|systemd-shared|elogind)')
PKGS=$(printf '%s\n' $TOP $CLOSURE | sort -u)
log "packages: $(echo $PKGS | wc -w)"
(
  cd "$DEBS"
  missing=
  for p in $PKGS; do
    ls "${p}"_*.deb >/dev/null 2>&1 && continue
    # a virtual name (provided by another package) has no .deb of its own: skip it
    [ -n "$(apt-cache show --no-all-versions "$p" 2>/dev/null | sed -n 's/^Filename: //p')" ] || { log "  virtual: $p"; continue; }
    missing="$missing $p"
  done
  # one apt-get for all of them (one per package takes minutes, under the build lock)
  [ -z "$missing" ] || apt-get -q -o APT::Sandbox::User=root download $missing >&2
)
X=$W/x/agent
mkdir -p "$X"
for p in $PKGS; do
  f=$(ls "$DEBS/${p}"_*.deb 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$f" ] && dpkg -x "$f" "$X"
done

LIBDIRS="$X/lib/x86_64-linux-gnu $X/usr/lib/x86_64-linux-gnu"
D=$R/usr/lib/x86_64-linux-gnu
mkdir -p "$D" "$R/lib64" "$R/usr/bin" "$R/usr/sbin" "$R/usr/share/X11"
declare -A DONE_LIB
copy_lib() { # soname
  local n=$1 d f
  [ -n "${DONE_LIB[$n]:-}" ] && return 0
  DONE_LIB[$n]=1
  f=
  for d in $LIBDIRS; do [ -e "$d/$n" ] && { f=$d/$n; break; }; done
  [ -n "$f" ] || die "library $n not found in the unpacked packages"
  cp -L "$f" "$D/$n"
  needed "$D/$n"
}
needed() { # elf
  local n
  for n in $(readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do copy_lib "$n"; done
}
for b in usr/bin/Xvfb usr/bin/xkbcomp usr/bin/xclip usr/bin/spice-vdagent usr/sbin/spice-vdagentd; do
  [ -x "$X/$b" ] || die "$b missing"
  cp "$X/$b" "$R/$b"
  needed "$R/$b"
done
copy_lib libgcc_s.so.1
# the PT_INTERP path of every binary above
cp -L "$X/lib64/ld-linux-x86-64.so.2" "$R/lib64/ld-linux-x86-64.so.2"
cp -a "$X/usr/share/X11/xkb" "$R/usr/share/X11/xkb"
# Xvfb execs xkbcomp from /usr/bin and writes compiled keymaps to /var/lib/xkb
mkdir -p "$R/var/lib/xkb" "$R/run" "$R/etc" "$R/root"
# GLib looks the home directory up in passwd (file-xfer saves under it)
echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"
echo 'root:x:0:' > "$R/etc/group"
echo agent > "$R/etc/guest-flavour"
log "libraries: ${#DONE_LIB[@]}"
{
  echo "agent packages:"
  for p in spice-vdagent xvfb xclip x11-xkb-utils; do
    f=$(ls "$DEBS/${p}"_*.deb | sort -V | tail -1); echo "  $(basename "$f")"
  done
} > "$W/agent-manifest"
