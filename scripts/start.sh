#!/usr/bin/env bash
# Set up, then show the boot planner at work on the example machines.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cli=dist/src/cli/main.js
show() {
  echo
  echo "=== ramstack plan --machine $1 --cmdline \"$2\""
  node "$cli" plan --machine "$1" --cmdline "$2" || true
}
show examples/usb-flash.json "psubdir=puppy"
show examples/nvme-savemark.json "psubdir=boot/tiny"
show examples/ambiguous-label.json "pupsfs=PUPPY"
