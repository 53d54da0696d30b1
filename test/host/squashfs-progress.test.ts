// Host tier: mksquashfs's progress, from what it has read of the tree (its
// /proc/PID/io) as it works, on a real tree; the SFS it makes is whole.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { randomBytes } from "node:crypto";
import { mksquashfsShowing } from "../../src/build/squashfs.js";
import { progress } from "../../src/lib/progress.js";
import { run } from "../../src/sys/exec.js";
import { scratch } from "../helpers/system.js";

describe("mksquashfs with progress", { timeout: 120000 }, () => {
  it("shows how far it is, ends at 100% and done, and the SFS lists every file", async () => {
    const dir = scratch("squash-progress");
    const tree = join(dir, "tree");
    mkdirSync(tree);
    for (let i = 0; i < 300; i++) writeFileSync(join(tree, `f${i}`), randomBytes(8192));
    let text = "";
    const p = progress({ terminal: false, write: (t) => void (text += t) }, "build: t.sfs");
    await mksquashfsShowing(tree, join(dir, "t.sfs"), { compression: { comp: "gzip" }, epoch: 0 }, p);
    const lines = text.trim().split("\n");
    assert.ok(
      lines.every((l) => /^build: t\.sfs: (\d+% of 2 MiB|done)$/.test(l)),
      text,
    );
    assert.deepEqual(lines.slice(-2), ["build: t.sfs: 100% of 2 MiB", "build: t.sfs: done"]);
    const listed = run("unsquashfs", ["-l", "-d", "", join(dir, "t.sfs")]).stdout.split("\n");
    assert.equal(listed.filter((l) => /^\/f\d+$/.test(l)).length, 300);
  });

  it("fails as run() fails: the command and what it printed", async () => {
    const dir = scratch("squash-progress-bad");
    // /proc takes no new files: mksquashfs itself fails.
    await assert.rejects(
      mksquashfsShowing(dir, "/proc/t.sfs", { compression: { comp: "gzip" }, epoch: 0 }, progress(null, "x")),
      /mksquashfs .* \/proc\/t\.sfs .*failed \(exit 1\): Could not create destination file/,
    );
  });
});
