#!/usr/bin/env bash
# Set up, build the default system, boot it in QEMU and show it working;
# then show the boot planner on the example machines.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cli=dist/src/cli/main.js

echo
echo "=== ramstack build --out out/tiny"
node "$cli" build --out out/tiny

# A fresh boot disk: a save left by an earlier run would change what is shown.
rm -f out/tiny/disk-*.img

echo
echo "=== ramstack run out/tiny (QEMU, software emulation): the stack seen from inside the guest"
node "$cli" run out/tiny --exec "cat /etc/rc.d/PUPSTATE" \
  --exec "grep -E ' (/|/initrd/[^ ]+) ' /proc/mounts" \
  --exec "grep -E 'puppy:|zdrv:|save:' /initrd/tmp/bootinit.log" \
  --exec "echo 'written in the first session' > /root/hello; cat /initrd/pup_rw/root/hello" \
  --exec "ramstack save new folder" 2>/dev/null

echo
echo "=== ramstack run out/tiny again: the same disk, now with the save folder (PUPMODE 12)"
node "$cli" run out/tiny --exec "grep -E 'PUPMODE|PUPSAVE' /etc/rc.d/PUPSTATE" \
  --exec "cat /root/hello" \
  --exec "ramstack save list" 2>/dev/null

show() {
  echo
  echo "=== ramstack plan --machine $1 --cmdline \"$2\""
  node "$cli" plan --machine "$1" --cmdline "$2" || true
}
show examples/usb-flash.json "psubdir=puppy"
show examples/nvme-savemark.json "psubdir=boot/tiny"
show examples/ambiguous-label.json "pupsfs=PUPPY"
