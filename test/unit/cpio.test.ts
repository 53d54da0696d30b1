// Files added to an initrd (a humongous initrd's SFS, a BOOT_SPECS): an
// uncompressed archive placed before the initrd, so that whatever the
// initrd's compression the kernel unpacks both.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { humongousInitrd } from "../../src/build/cpio.js";

describe("humongous initrd", () => {
  it("puts the files' archive first, padded to whole blocks, and the initrd after it unchanged", () => {
    const dir = mkdtempSync(join(tmpdir(), "ramstack-cpio-"));
    try {
      writeFileSync(join(dir, "a.sfs"), "hsqs-data");
      for (const n of [8, 9, 10, 11]) {
        const initrd = Buffer.alloc(n, 0x28);
        writeFileSync(join(dir, "initrd"), initrd);
        humongousInitrd(join(dir, "initrd"), [join(dir, "a.sfs")], join(dir, "out"), 0);
        const out = readFileSync(join(dir, "out"));
        assert.equal(out.indexOf("070701"), 0, "the files' archive comes first");
        const at = out.length - n;
        assert.equal(at % 512, 0, `the initrd starts at ${at}, on a block boundary`);
        assert.deepEqual(out.subarray(at), initrd, "the initrd follows, as it was");
        assert.ok(out.subarray(0, at).includes("TRAILER!!!") && out.includes("a.sfs") && out.includes("hsqs-data"));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
