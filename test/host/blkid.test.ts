// Host tier: the superblock reader against filesystems made by the real
// mkfs tools, compared with what they were told to write.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { closeSync, ftruncateSync, mkdtempSync, openSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { identifyPath } from "../../src/sys/blkid.js";
import { run } from "../../src/sys/exec.js";
import { makeSfs } from "../helpers/system.js";

const dir = mkdtempSync(join(tmpdir(), "ramstack-blkid-"));
let n = 0;
function image(mib: number): string {
  const f = join(dir, `img${n++}`);
  const fd = openSync(f, "w");
  ftruncateSync(fd, mib * 1048576);
  closeSync(fd);
  return f;
}

describe("identify filesystems from their superblocks", () => {
  for (const fs of ["ext2", "ext3", "ext4"]) {
    it(`${fs}: type, label and UUID`, () => {
      const f = image(8);
      run("mke2fs", ["-q", "-F", "-t", fs, "-L", `LBL_${fs}`, "-U", "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9", f]);
      assert.deepEqual(identifyPath(f), {
        fstype: fs,
        label: `LBL_${fs}`,
        uuid: "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9",
      });
    });
  }

  for (const [bits, mib] of [
    ["16", 32],
    ["32", 64],
  ] as const) {
    it(`FAT${bits}: label and volume serial as ABCD-1234`, () => {
      const f = image(mib);
      run("mkfs.vfat", ["-F", bits, "-n", "MYSTICK", "-i", "1a2b3c4d", f]);
      assert.deepEqual(identifyPath(f), { fstype: "vfat", label: "MYSTICK", uuid: "1A2B-3C4D" });
    });
  }

  it("FAT without a label has an empty label, not NO NAME", () => {
    const f = image(32);
    run("mkfs.vfat", ["-F", "16", "-i", "0000beef", f]);
    assert.deepEqual(identifyPath(f), { fstype: "vfat", label: "", uuid: "0000-BEEF" });
  });

  it("exFAT: the label from the root directory", () => {
    const f = image(16);
    run("mkfs.exfat", ["-L", "EXSTICK", f]);
    // mkfs.exfat picks the serial itself: util-linux's blkid says what it is.
    const serial = run("blkid", ["-o", "value", "-s", "UUID", f]).stdout.trim();
    assert.match(serial, /^[0-9A-F]{4}-[0-9A-F]{4}$/);
    assert.deepEqual(identifyPath(f), { fstype: "exfat", label: "EXSTICK", uuid: serial });
  });

  it("squashfs and swap are recognised (and never mounted as a partition)", () => {
    assert.equal(identifyPath(makeSfs(join(dir, "x.sfs"), { a: "b" }))?.fstype, "squashfs");
    const s = image(4);
    run("mkswap", [s]);
    assert.equal(identifyPath(s)?.fstype, "swap");
  });

  it("LUKS2: type, UUID and label from the header", () => {
    const f = image(20);
    const key = join(dir, "key");
    writeFileSync(key, "secret");
    run("cryptsetup", [
      "luksFormat",
      "-q",
      "--type",
      "luks2",
      "--pbkdf",
      "pbkdf2",
      "--pbkdf-force-iterations",
      "1000",
      "--label",
      "SAVE",
      "--uuid",
      "11111111-2222-4333-8444-555555555555",
      "--key-file",
      key,
      f,
    ]);
    assert.deepEqual(identifyPath(f), {
      fstype: "crypto_LUKS",
      label: "SAVE",
      uuid: "11111111-2222-4333-8444-555555555555",
    });
  });

  it("an empty or unknown device is null, never a guess", () => {
    assert.equal(identifyPath(image(1)), null);
    assert.equal(identifyPath(join(dir, "missing")), null);
  });
});
