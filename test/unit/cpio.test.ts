// A humongous initrd: the SFS archive after the initrd must start on a
// 4-byte boundary, or the kernel does not unpack it.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { humongousInitrd } from "../../src/build/cpio.js";

describe("humongous initrd", () => {
  it("puts the SFS archive at a 4-byte boundary after an initrd of any length", () => {
    const dir = mkdtempSync(join(tmpdir(), "ramstack-cpio-"));
    try {
      writeFileSync(join(dir, "a.sfs"), "hsqs-data");
      for (const n of [8, 9, 10, 11]) {
        writeFileSync(join(dir, "initrd"), Buffer.alloc(n, 0x28));
        humongousInitrd(join(dir, "initrd"), [join(dir, "a.sfs")], join(dir, "out"), 0);
        const out = readFileSync(join(dir, "out"));
        const at = out.indexOf("070701");
        assert.equal(at % 4, 0, `initrd of ${n} bytes: the archive starts at ${at}`);
        assert.ok(out.subarray(n, at).every((b) => b === 0), "only zeros between the two");
        assert.ok(out.includes("a.sfs") && out.includes("hsqs-data"));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
