#!/usr/bin/env bash
# The whole suite: set-up, lint and typecheck, then every test tier.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "lint: eslint, prettier"
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --check . 2>&1 | tail -20; echo "formatting: run 'npm run format'" >&2; exit 1; }
# The system the host and VM tests boot: built once, quick compression.
echo "build: the test system (out/test)"
node dist/src/cli/main.js build --fast --out out/test
dirs=()
for d in dist/test/unit dist/test/host dist/test/vm; do
  [ -d "$d" ] && dirs+=("$d")
done
exec node --test --test-concurrency=2 "${dirs[@]}"
