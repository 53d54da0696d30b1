// Host tier: several commands in one shell (the init's mount moves), with the
// failure pinned on the right command.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runAll } from "../../src/sys/exec.js";

describe("runAll: commands in one shell", () => {
  const dir = mkdtempSync(join(tmpdir(), "ramstack-run-all-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("runs every command in order, arguments kept whole (spaces, quotes, $)", () => {
    const file = join(dir, "it's a $file");
    const r = runAll([
      ["sh", "-c", 'printf "%s\\n" "$1" > "$2"', "sh", "one two 'three' $HOME", file],
      ["sh", "-c", 'echo four >> "$1"', "sh", file],
    ]);
    assert.deepEqual(r, { failed: null, status: 0, output: "" });
    assert.equal(readFileSync(file, "utf8"), "one two 'three' $HOME\nfour\n");
  });

  it("stops at the first failure and names it, with its status and what it printed", () => {
    const marker = join(dir, "reached");
    const r = runAll([["true"], ["sh", "-c", "echo why >&2; exit 3"], ["touch", marker]]);
    assert.equal(r.failed, 1);
    assert.equal(r.status, 3);
    assert.equal(r.output, "why");
    assert.throws(() => readFileSync(marker), /ENOENT/, "the command after the failure did not run");
  });

  it("counts a missing command as that command's failure", () => {
    const r = runAll([["true"], ["ramstack-no-such-command"]]);
    assert.equal(r.failed, 1);
    assert.equal(r.status, 127);
  });
});
