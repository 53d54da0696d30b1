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

echo
echo "=== ramstack run out/tiny (QEMU, software emulation): the stack seen from inside the guest"
node "$cli" run out/tiny --exec "cat /etc/rc.d/PUPSTATE" \
  --exec "grep -E ' (/|/initrd/[^ ]+) ' /proc/mounts" \
  --exec "echo written in RAM > /root/hello; cat /initrd/pup_rw/root/hello" \
  --exec "grep -E 'puppy:|zdrv:|save:' /initrd/tmp/bootinit.log" 2>/dev/null

show() {
  echo
  echo "=== ramstack plan --machine $1 --cmdline \"$2\""
  node "$cli" plan --machine "$1" --cmdline "$2" || true
}
show examples/usb-flash.json "psubdir=puppy"
show examples/nvme-savemark.json "psubdir=boot/tiny"
show examples/ambiguous-label.json "pupsfs=PUPPY"
