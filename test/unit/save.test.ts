// The saver's pure parts: Puppy's exclusion list, the AUTOSAVE file, and the
// command's refusals of bad options.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { isExcluded } from "../../src/save/excludes.js";
import { parseInterval } from "../../src/save/periodic.js";
import { parseAutosave } from "../../src/save/shutdown.js";
import { saveLock } from "../../src/save/running.js";
import { saveTargetOf } from "../../src/save/first.js";
import { parsePupstate } from "../../src/plan/handover.js";
import { mkdtempSync, mkdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";

const bin = join(dirname(fileURLToPath(import.meta.url)), "../../src/cli/main.js");
const save = (...args: string[]) => spawnSync(process.execPath, [bin, "save", ...args], { encoding: "utf8" });

describe("what a save leaves out", () => {
  it("follows Puppy's list for the overlay merge", () => {
    for (const p of [
      "tmp",
      "tmp/x",
      "dev/null",
      "mnt/sda1",
      "root/tmp/a",
      "var/tmp/b",
      "var/lock/c",
      "proc",
      "pup_ro1",
      "zdrv_tiny_1.sfs",
      "root/Downloads/f.part",
      "home/u/x.crdownload",
      "a/.wh.b",
    ])
      assert.ok(isExcluded(p), `${p} should be left out`);
    for (const p of ["root/new.txt", "etc/hosts", "var/lib/x", "usr/share/tmp", "root/tmpfile", "home/pup_notes"])
      assert.ok(!isExcluded(p), `${p} should be saved`);
  });
});

describe("AUTOSAVE", () => {
  it("names a folder or a file with a size", () => {
    assert.deepEqual(parseAutosave("folder\n"), { kind: "folder", sizeMiB: 512 });
    assert.deepEqual(parseAutosave("file 256"), { kind: "file", sizeMiB: 256 });
    assert.deepEqual(parseAutosave("file:128"), { kind: "file", sizeMiB: 128 }, "the autosave= boot parameter's form");
    assert.equal(parseAutosave("yes please"), null);
    assert.equal(parseAutosave(""), null);
  });
});

describe("periodic saves", () => {
  it("read RAMSAVEINTERVAL's minutes, or a time with its unit", () => {
    assert.equal(parseInterval("30"), 1800);
    assert.equal(parseInterval("0.05"), 3);
    assert.equal(parseInterval("90s"), 90);
    assert.equal(parseInterval("2h"), 7200);
    assert.equal(parseInterval("0"), 0);
    for (const bad of ["", "soon", "-5", "5d", "1e3"]) assert.equal(parseInterval(bad), null, bad);
  });
});

describe("ramstack save refuses bad options", () => {
  it("explains each with exit status 2", () => {
    const cases: [string[], RegExp][] = [
      [["--new", "partition"], /--new 'partition' is not one of folder, file, archive/],
      [["--new", "folder", "--encrypt"], /--encrypt goes with --new file/],
      [["--partition", "sdb1"], /--partition goes with --new/],
      [["--periodic", "--every", "soon"], /--every: 'soon' is not a time/],
      [["--every", "5m"], /--every goes with --periodic/],
      [["--size", "64"], /--size goes with --new/],
      [["--new", "file", "--fs", "vfat"], /--fs 'vfat' is not one of ext2, ext3, ext4/],
      [["--keep", "-1"], /--keep takes a whole number/],
      [["--ram", "/x"], /--ram and --lower go with --save-dir/],
    ];
    for (const [args, re] of cases) {
      const r = save(...args);
      assert.equal(r.status, 2, args.join(" "));
      assert.match(r.stderr, re);
    }
  });
  it("outside a running system says so", () => {
    const r = save("--list");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not a running ramstack system/);
  });
});

describe("the save lock", () => {
  it("is one per save folder, whatever path names it", () => {
    const dir = mkdtempSync(join(tmpdir(), "ramstack-lock-"));
    mkdirSync(join(dir, "a"));
    mkdirSync(join(dir, "b"));
    symlinkSync(join(dir, "a"), join(dir, "link-to-a"));
    assert.equal(saveLock(join(dir, "a")), saveLock(join(dir, "link-to-a")));
    assert.equal(saveLock(join(dir, "a")), saveLock(join(dir, "b", "..", "a")));
    assert.notEqual(saveLock(join(dir, "a")), saveLock(join(dir, "b")));
    assert.match(saveLock(join(dir, "a")), /^\/tmp\/ramstack-save-[0-9a-f]{16}\.lock$/);
  });
});

describe("where a first save goes (PUPSTATE, typed)", () => {
  const target = (text: string) => saveTargetOf(parsePupstate(text));
  it("PSAVEPART and PSAVEDIR when a place was given", () => {
    assert.deepEqual(target("PUPMODE=5\nPUPSFS='sda1,ext4,/puppy/puppy.sfs'\nPSAVEPART='sdb2'\nPSAVEDIR='/saves/'\n"), {
      part: "sdb2",
      dir: "/saves",
    });
    assert.deepEqual(target("PSAVEPART='sdb2'\nPSAVEDIR=''\n"), { part: "sdb2", dir: "/" });
  });
  it("else beside the main SFS; nowhere for an SFS in the initrd", () => {
    assert.deepEqual(target("PUPMODE=5\nPUPSFS='sda1,ext4,/puppy/puppy.sfs'\n"), { part: "sda1", dir: "/puppy" });
    assert.deepEqual(target("PUPSFS='sda1,vfat,/puppy.sfs'\n"), { part: "sda1", dir: "/" });
    assert.equal(target("PUPSFS='rootfs,rootfs,/puppy.sfs'\n"), null);
    assert.equal(target("PUPMODE=5\n"), null);
  });
});
