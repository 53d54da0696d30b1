#!/usr/bin/env bash
# Installs what ramstack needs on a fresh Debian 12 machine: Debian's tools
# (when missing) and the npm dependencies, then compiles the TypeScript.
# Safe to run again: it only does what is not done yet.
set -euo pipefail
cd "$(dirname "$0")/.."

need_node=20
have_node=$(node -p 'process.versions.node.split(".")[0]')
if [ "$have_node" -lt "$need_node" ]; then
  echo "ramstack needs Node.js >= $need_node (found $(node --version))" >&2
  exit 1
fi

# Debian packages: the tools the builder, the image writer, the VM runner and
# the host tests start.
APT_PACKAGES=(
  squashfs-tools e2fsprogs dosfstools exfatprogs mtools fdisk
  busybox-static kmod cpio zstd lz4 xz-utils cryptsetup-bin
  qemu-system-x86 qemu-system-arm qemu-utils ovmf grub-pc-bin grub-efi-amd64-bin grub-common
  rsync util-linux binutils exfat-fuse attr xorriso kbd console-data
  # the debian profile: a Debian system made with its maintainer scripts run;
  # for arm64, those scripts run through qemu-user (binfmt_misc)
  mmdebstrap qemu-user-static binfmt-support arch-test
  # the small JavaScript runtime (QuickJS, static with musl) for x86_64 and, cross-built, arm64
  make gcc libc6-dev linux-libc-dev musl-dev
  gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross linux-libc-dev-arm64-cross musl-dev:arm64
  # the retro task's tests: a NES program (cc65's ca65/ld65) and a DOS program (nasm) made on this machine
  cc65 nasm
  # the webdev task's test: its page seen in a real browser
  chromium
)
# musl-dev:arm64 is a package of another architecture: dpkg must know it.
need_update=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  if [ "$(id -u)" -eq 0 ]; then
    dpkg --add-architecture arm64
    need_update=1
  fi
fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  [ "$need_update" = 1 ] && apt-get update -q >/tmp/ramstack-apt.log 2>&1
  # An old or empty package list makes apt-get fail to find packages.
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/ramstack-apt.log 2>&1; then
    apt-get update -q >>/tmp/ramstack-apt.log 2>&1
    apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/ramstack-apt.log 2>&1 || {
      tail -20 /tmp/ramstack-apt.log >&2
      exit 1
    }
  fi
fi

# arm64 programs (the debian profile's maintainer scripts, a task's install)
# run through qemu-user: the kernel's binfmt_misc must know them.
if [ "$(id -u)" -eq 0 ]; then
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
  if [ -e /proc/sys/fs/binfmt_misc/register ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
  fi
fi

# npm dependencies, when missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

npx tsc -p tsconfig.json
# The small engine's code against what QuickJS has (ES2020, no Node.js).
npx tsc -p tsconfig.engine.json
