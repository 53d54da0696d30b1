import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { naturalCompare, partitionName, resolveId, takeInventory } from "../../src/plan/devices.js";
import { disk, machine, part } from "../helpers/machines.js";

describe("partition inventory", () => {
  const m = machine([
    disk("sr0", "cd", [part("sr0", "iso9660")]),
    disk("sda", "ata", [part("sda10", "ext4"), part("sda2", "ext4"), part("sda1", "swap"), part("sda3", "")]),
    disk("nvme0n1", "nvme", [part("nvme0n1p10", "ext4"), part("nvme0n1p2", "vfat")]),
    disk("loop0", "virtio", [part("loop0", "squashfs")]),
    disk("mmcblk0", "mmc", [part("mmcblk0boot0", "ext4"), part("mmcblk0p1", "zfs")]),
  ]);
  const inv = takeInventory(m);
  it("is in natural order with optical drives last", () => {
    assert.deepEqual(
      inv.parts.map((p) => p.name),
      ["nvme0n1p2", "nvme0n1p10", "sda2", "sda10", "sr0"],
    );
  });
  it("skips swap, unformatted, loop, boot areas and filesystems the kernel lacks, saying why", () => {
    assert.deepEqual(Object.fromEntries(inv.skipped.map((s) => [s.name, s.reason])), {
      sda1: "swap is not searched",
      sda3: "no filesystem",
      loop0: "device type is never searched",
      mmcblk0boot0: "device type is never searched",
      mmcblk0p1: "the kernel cannot mount zfs",
    });
  });
  it("natural order compares numbers as numbers", () => {
    assert.deepEqual(["sda10", "sda2", "sdb1", "sda1"].sort(naturalCompare), ["sda1", "sda2", "sda10", "sdb1"]);
  });
  it("partition N of nvme and mmc drives takes a p", () => {
    assert.equal(partitionName("sda", 4), "sda4");
    assert.equal(partitionName("nvme0n1", 4), "nvme0n1p4");
    assert.equal(partitionName("mmcblk0", 2), "mmcblk0p2");
  });
});

describe("naming a partition by name, label or UUID", () => {
  const inv = takeInventory(
    machine([
      disk("sda", "ata", [
        part("sda1", "ext4", {}, { label: "puppy", uuid: "1111-AAAA" }),
        part("sda2", "ext4", {}, { label: "puppy2", uuid: "1112-BBBB" }),
        part("sda3", "vfat", {}, { label: "DATA", uuid: "2222-CCCC" }),
      ]),
    ]),
  );
  const name = (id: string): string => {
    const r = resolveId(id, inv.parts);
    return r.kind === "found"
      ? r.part.name
      : r.kind === "ambiguous"
        ? `ambiguous:${r.candidates.map((c) => c.name).join("+")}`
        : "missing";
  };
  const cases: [string, string][] = [
    ["sda3", "sda3"],
    ["/dev/sda3", "sda3"],
    ["/dev/sdz9", "missing"],
    ["DATA", "sda3"],
    ["DA", "sda3"],
    ["puppy", "sda1"], // an exact label beats a label prefix of another
    ["pup", "ambiguous:sda1+sda2"],
    ["2222", "sda3"],
    ["2222-cccc", "sda3"], // UUIDs ignore case
    ["111", "ambiguous:sda1+sda2"],
    ["UUID=1112", "sda2"],
    ["LABEL=DATA", "sda3"],
    ["LABEL=1111", "missing"],
    ["nothing", "missing"],
    ["", "missing"],
  ];
  for (const [id, want] of cases) it(`'${id}' -> ${want}`, () => assert.equal(name(id), want));
});
