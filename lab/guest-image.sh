#!/usr/bin/env bash
# lab/guest-image.sh small|debian|all: build the lab's real guest images from
# Debian's packages alone (apt; nothing is downloaded from anywhere else).
#
#   small   Debian's cloud kernel (linux-image-cloud-amd64, unpacked with
#           dpkg-deb, never installed on this machine) and an initramfs whose
#           userland is busybox-static, with an init that boots like CirrOS
#           (lab/guest/small/): $GUEST_CACHE/small/{vmlinuz,initrd.img}
#   debian  a Debian 12 disk built with mmdebstrap (minbase, the real
#           cloud-init, ifupdown and ISC dhclient, a getty on ttyS0), booted
#           with its own kernel and initrd (no bootloader):
#           $GUEST_CACHE/debian/{vmlinuz,initrd.img,disk.raw}
#
# Images are cached under GUEST_CACHE (default lab/run/guests, which
# lab/down.sh leaves alone), one folder per hash of the inputs: this script,
# lab/guest/ and the versions of the packages used. A second run with the same
# inputs reuses the folder and says so. Root password of both guests: the lab
# password "hoofbeat" (a lab guest on a network with no way out).
set -euo pipefail
export SCRIPT_NAME=guest-image.sh
# lib.sh only defines variables and functions: safe without a running lab.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root

GUEST_CACHE=${GUEST_CACHE:-$RUN/guests}
GUEST_SRC=$LAB_DIR/guest
LAB_PASSWORD=hoofbeat
# The modules the small guest needs that the cloud kernel does not build in:
# virtio-pci and virtio-net (with their dependencies, resolved below).
SMALL_MODULES=(virtio_pci virtio_net)
# The guest firewall of the hbg.fault= hooks (lab/guest/small/faults.sh):
# iptables (legacy: ip_tables, the filter table, the udp match) and nftables
# (netdev ingress). Loaded by rc.boot only when a firewall fault asks.
FW_MODULES=(iptable_filter xt_tcpudp nf_tables)
# Debian's packages that hold iptables, nft and every shared library they
# load (the ELF interpreter's --list must resolve each one inside them).
FW_PACKAGES=(iptables libxtables12 libip4tc2 libip6tc2 nftables libnftables1 libnftnl11 libmnl0
  libjansson4 libgmp10 libedit2 libtinfo6 libbsd0 libmd0 libc6)
# Their files the guest needs; the xtables extensions are dlopen()ed, so
# no dependency list names them: the ones the faults' rules use.
FW_FILES=(usr/sbin/xtables-legacy-multi usr/sbin/nft
  usr/lib/x86_64-linux-gnu/xtables/libxt_standard.so usr/lib/x86_64-linux-gnu/xtables/libipt_icmp.so
  usr/lib/x86_64-linux-gnu/xtables/libxt_udp.so)
DEBIAN_PACKAGES=systemd-sysv,udev,kmod,linux-image-cloud-amd64,initramfs-tools,cloud-init,ifupdown,isc-dhcp-client,openssh-server,iproute2,netbase,iputils-ping,procps,ca-certificates

usage() { echo "usage: lab/guest-image.sh small|debian|all" >&2; exit 2; }
# A build that fails or is interrupted leaves no half-built folder behind,
# nor what mmdebstrap mounted in it (/proc, /sys, /dev of the new root,
# left mounted when it is killed): those are unmounted first, and rm stays
# on the folder's own file system whatever is left.
tmp=''
cleanup() {
  [ -n "$tmp" ] || return 0
  awk -v p="$tmp/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ $# = 1 ] || usage
case "$1" in small | debian | all) ;; *) usage ;; esac

ensure_packages() {
  local p missing=()
  for p in "$@"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
  done
  [ ${#missing[@]} = 0 ] && return 0
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# candidates PKG...: "PKG=VERSION" for each, the versions apt would install
# now (the cache key), in one apt-cache call.
candidates() {
  apt-cache policy "$@" | awk '/^[^ ]/ {p=$1; sub(/:$/, "", p)} /Candidate:/ {print p "=" $2}'
}

# inputs_hash GUEST WORDS...: hash of this script, lab/guest/GUEST/ and WORDS.
inputs_hash() {
  local g=$1; shift
  { cat "$0"; find "$GUEST_SRC/$g" -type f | LC_ALL=C sort | xargs cat; printf '%s\n' "$@"; } |
    sha256sum | cut -c1-16
}

# cached NAME HASH: reuse GUEST_CACHE/NAME-HASH if complete (and point
# GUEST_CACHE/NAME at it).
cached() {
  local dir=$GUEST_CACHE/$1-$2
  [ -f "$dir/complete" ] || return 1
  ln -sfn "$1-$2" "$GUEST_CACHE/$1"
  log "reusing cached $1 guest $dir (inputs unchanged)"
}

finish() { # NAME HASH TMPDIR
  local dir=$GUEST_CACHE/$1-$2
  date -u +%FT%TZ >"$3/complete"
  rm -rf "$dir"
  mv "$3" "$dir"
  tmp=''
  ln -sfn "$1-$2" "$GUEST_CACHE/$1"
  # Older builds of the same guest are stale: their inputs changed.
  find "$GUEST_CACHE" -maxdepth 1 -name "$1-*" ! -name "$1-$2" -exec rm -rf {} +
}

# deb_of PKG: the binary package a metapackage (linux-image-cloud-amd64)
# depends on, or PKG itself.
deb_of() {
  local dep
  dep=$(apt-cache depends "$1" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  echo "${dep:-$1}"
}

# unpack DIR PKG...: download the PKGs (apt-get download, from Debian's
# mirror, in one call) and unpack them into DIR with dpkg-deb: nothing is
# installed on this machine (busybox-static would replace the lab's busybox
# package).
unpack() {
  local d f dir=$1; shift
  d=$(mktemp -d "$dir.deb.XXXXXX")
  (cd "$d" && apt-get download -q -o APT::Sandbox::User=root "$@" >/dev/null) || die "apt-get download $* failed"
  for f in "$d"/*.deb; do dpkg-deb -x "$f" "$dir"; done
  rm -rf "$d"
}

# mod_deps ROOT KVER MOD...: module files (relative to ROOT/lib/modules/KVER),
# dependencies first, as insmod must load them.
mod_deps() {
  local root=$1 kver=$2; shift 2
  local -A seen=()
  local out=()
  visit() {
    local f d
    f=$(find "$root/lib/modules/$kver" -name "$1.ko" -o -name "$1.ko.xz" | head -n1)
    [ -n "$f" ] || { grep -qw "$1" "$root/lib/modules/$kver/modules.builtin" 2>/dev/null && return 0; die "module $1 not found in $kver"; }
    [ -n "${seen[$1]:-}" ] && return 0
    seen[$1]=1
    for d in $(modinfo -F depends "$f" | tr ',' ' '); do visit "$d"; done
    out+=("${f#"$root/lib/modules/$kver/"}")
  }
  local m
  for m in "$@"; do visit "$m"; done
  printf '%s\n' "${out[@]}"
}

# elf_closure TREE FILE...: FILE (paths relative to TREE) and every shared
# object they load, as TREE-relative paths, resolved by TREE's own ELF
# interpreter (ld.so --list, what ldd runs) against TREE's library folders
# only; a library found outside TREE (on this machine) is an error: its
# package is missing from FW_PACKAGES.
elf_closure() {
  local t=$1 f p; shift
  local ld=$t/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
  [ -x "$ld" ] || die "no ELF interpreter in $t (libc6 not unpacked?)"
  for f in "$@"; do
    [ -e "$t/$f" ] || die "$f not in the unpacked packages"
    echo "$f"
    "$ld" --library-path "$t/lib/x86_64-linux-gnu:$t/usr/lib/x86_64-linux-gnu" --list "$t/$f" |
      awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
      while read -r p; do
        case "$p" in
          "$t"/*) echo "${p#"$t"/}" ;;
          /lib64/ld-linux-x86-64.so.2) ;;
          *) die "$f loads $p from this machine: add its package to FW_PACKAGES" ;;
        esac
      done
  done | LC_ALL=C sort -u
}

build_small() {
  ensure_packages cpio kmod
  local kpkg hash
  kpkg=$(deb_of linux-image-cloud-amd64)
  [ -n "$kpkg" ] || die "apt knows no linux-image-cloud-amd64 (apt-get update?)"
  hash=$(inputs_hash small "$(candidates "$kpkg" busybox-static "${FW_PACKAGES[@]}")")
  cached small "$hash" && return 0
  local t0=$SECONDS
  mkdir -p "$GUEST_CACHE"
  tmp=$(mktemp -d "$GUEST_CACHE/.small.XXXXXX")
  mkdir "$tmp/k" "$tmp/bb" "$tmp/fw" "$tmp/root"
  unpack "$tmp/k" "$kpkg"
  unpack "$tmp/bb" busybox-static
  unpack "$tmp/fw" "${FW_PACKAGES[@]}"
  local kver
  kver=$(basename "$(find "$tmp/k/lib/modules" -mindepth 1 -maxdepth 1 -type d)")
  cp "$tmp/k/boot/vmlinuz-$kver" "$tmp/vmlinuz"

  local r=$tmp/root m
  mkdir -p "$r"/{bin,sbin,etc/udhcpc,proc,sys,dev,run,tmp,root,lib/modules,usr/bin,usr/sbin}
  cp "$tmp/bb/bin/busybox" "$r/bin/busybox"
  # Every applet as a link, as busybox --install would make at boot.
  for m in $("$tmp/bb/bin/busybox" --list-full); do
    [ -e "$r/$m" ] || ln -s /bin/busybox "$r/$m"
  done
  : >"$r/etc/modules.order"
  for m in $(mod_deps "$tmp/k" "$kver" "${SMALL_MODULES[@]}"); do
    cp "$tmp/k/lib/modules/$kver/$m" "$r/lib/modules/"
    echo "${m##*/}" >>"$r/etc/modules.order"
  done
  : >"$r/etc/modules.fw"
  for m in $(mod_deps "$tmp/k" "$kver" "${FW_MODULES[@]}"); do
    cp "$tmp/k/lib/modules/$kver/$m" "$r/lib/modules/"
    echo "${m##*/}" >>"$r/etc/modules.fw"
  done
  # iptables and nft with their libraries, at the paths Debian puts them
  # (the interpreter's default search path finds them without ld.so.cache).
  local fwfiles
  fwfiles=$(elf_closure "$tmp/fw" "${FW_FILES[@]}")
  for m in $fwfiles; do
    mkdir -p "$r/$(dirname "$m")"
    cp -L "$tmp/fw/$m" "$r/$m"
  done
  ln -s lib "$r/lib64"
  ln -s x86_64-linux-gnu/ld-linux-x86-64.so.2 "$r/lib/ld-linux-x86-64.so.2"
  for m in iptables iptables-save iptables-legacy; do ln -s xtables-legacy-multi "$r/usr/sbin/$m"; done
  install -m 0755 "$GUEST_SRC/small/init" "$r/init"
  install -m 0755 "$GUEST_SRC/small/rc.boot" "$r/etc/rc.boot"
  install -m 0755 "$GUEST_SRC/small/default.script" "$r/etc/udhcpc/default.script"
  install -m 0644 "$GUEST_SRC/small/faults.sh" "$r/etc/hbg-faults.sh"
  install -m 0644 "$GUEST_SRC/small/inittab" "$r/etc/inittab"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
  printf 'root:x:0:\n' >"$r/etc/group"
  # A fixed salt keeps the image's bytes a function of its inputs.
  printf 'root:%s:19000:0:99999:7:::\n' "$("$tmp/bb/bin/busybox" mkpasswd -m sha512 -S hoofbeatlab "$LAB_PASSWORD")" >"$r/etc/shadow"
  chmod 0600 "$r/etc/shadow"
  printf 'hoofbeat lab small guest (busybox), kernel %s\n\n' "$kver" >"$r/etc/issue"
  (cd "$r" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) | gzip -9n >"$tmp/initrd.img"
  echo "$kver" >"$tmp/kernel-version"
  rm -rf "$tmp/k" "$tmp/bb" "$tmp/fw" "$tmp/root"
  finish small "$hash" "$tmp"
  log "built small guest in $((SECONDS - t0)) s: $GUEST_CACHE/small-$hash ($(du -sh "$GUEST_CACHE/small-$hash/initrd.img" | cut -f1) initrd)"
}

build_debian() {
  ensure_packages mmdebstrap e2fsprogs
  local hash
  # The versions of the packages named (and of the kernel the metapackage
  # pulls in); their dependencies follow them.
  # shellcheck disable=SC2086 # the list, split at its commas
  hash=$(inputs_hash debian "$(candidates ${DEBIAN_PACKAGES//,/ } "$(deb_of linux-image-cloud-amd64)")")
  cached debian "$hash" && return 0
  local t0=$SECONDS
  mkdir -p "$GUEST_CACHE"
  tmp=$(mktemp -d "$GUEST_CACHE/.debian.XXXXXX")
  # The host's apt sources (Debian's mirror); the guest's root password;
  # cloud-init told to read the OpenStack metadata service; the serial getty
  # comes from systemd's generator for console=ttyS0. The hooks' $1 is the
  # new root, expanded by mmdebstrap's shell, not this one.
  # shellcheck disable=SC2016
  mmdebstrap --variant=minbase --include="$DEBIAN_PACKAGES" \
    --customize-hook="echo root:$LAB_PASSWORD | chroot \"\$1\" chpasswd" \
    --customize-hook="copy-in $GUEST_SRC/debian/90-hoofbeat-lab.cfg /etc/cloud/cloud.cfg.d/" \
    --customize-hook='echo lab-debian >"$1/etc/hostname"' \
    --customize-hook='printf "/dev/vda / ext4 defaults 0 1\n" >"$1/etc/fstab"' \
    --customize-hook='rm -f "$1"/etc/machine-id; : >"$1"/etc/machine-id' \
    bookworm "$tmp/root" - </etc/apt/sources.list.d/debian.sources >"$tmp/mmdebstrap.log" 2>&1 ||
    die "mmdebstrap failed, see $tmp/mmdebstrap.log"
  cp -L "$tmp/root/vmlinuz" "$tmp/vmlinuz"
  cp -L "$tmp/root/initrd.img" "$tmp/initrd.img"
  basename "$(readlink -f "$tmp/root/vmlinuz")" | sed 's/^vmlinuz-//' >"$tmp/kernel-version"
  # The root file system straight from the folder: no loop mount needed.
  mke2fs -q -t ext4 -L root -d "$tmp/root" "$tmp/disk.raw" 2G >/dev/null
  rm -rf "$tmp/root"
  finish debian "$hash" "$tmp"
  log "built debian guest in $((SECONDS - t0)) s: $GUEST_CACHE/debian-$hash"
}

case "$1" in
  small) build_small ;;
  debian) build_debian ;;
  all) build_small; build_debian ;;
esac
