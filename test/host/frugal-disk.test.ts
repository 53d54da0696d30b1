// The boot disks `ramstack run`, the tests and the benches make from a
// build: one per layout, kept while the build stays the same, and those of
// an earlier build removed when the rebuilt one gets its first.

import assert from "node:assert/strict";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { frugalDisk } from "../../src/vm/frugal-disk.js";
import { scratch } from "../helpers/system.js";

function fakeBuild(dir: string, kernel: string): void {
  writeFileSync(join(dir, "vmlinuz"), kernel);
  const manifest = {
    distro: { name: "ramstack", prefix: "tiny", version: "0.1.0" },
    profile: "tiny",
    kernelRelease: "6.1.0-0-amd64",
    files: { vmlinuz: { bytes: kernel.length, sha256: kernel } },
  };
  writeFileSync(join(dir, "build.json"), JSON.stringify(manifest));
}

const disks = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith("disk-"));

describe("the disks made from a build", () => {
  it("one per layout; an earlier build's go when the rebuilt one gets its first, unless booted; others' directories untouched", () => {
    const build = scratch("frugal-disk-build");
    const elsewhere = scratch("frugal-disk-elsewhere");
    fakeBuild(build, "kernel 1");
    const notes: string[] = [];
    const layout = {
      build,
      label: "RAMSTACK",
      fstype: "ext4",
      table: "mbr",
      spareMiB: 1,
      note: (l: string) => notes.push(l),
    } as const;
    const first = frugalDisk({ ...layout, psubdir: "" });
    const sub = frugalDisk({ ...layout, psubdir: "/ramstack" });
    const away = frugalDisk({ ...layout, psubdir: "", dir: elsewhere });
    assert.notEqual(first, sub);
    assert.equal(frugalDisk({ ...layout, psubdir: "" }), first, "the same layout is made once");
    // `ramstack run` boots the disk itself: QEMU writes to it, and it may hold saves.
    writeFileSync(sub, "booted", { flag: "r+" });
    mkdirSync(join(build, "disk-dir"));
    assert.equal(disks(build).length, 3);
    assert.deepEqual(notes, []);

    fakeBuild(build, "kernel 2");
    const rebuilt = frugalDisk({ ...layout, psubdir: "" });
    assert.notEqual(rebuilt, first);
    assert.deepEqual(disks(build).sort(), [basename(rebuilt), basename(sub), "disk-dir"].sort());
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, new RegExp(`^${sub}: an earlier build's disk, booted since: kept`));
    assert.deepEqual(disks(elsewhere), [basename(away)], "a disk in another directory stays");
  });
});
