// Reference 1.8 (copy to RAM), 1.5 (search order, pmedia) and ISO boot (1.19 isoboot, as used by 1.3).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideCopies } from "../../src/plan/copy.js";
import { A, disk, frugal, hasLog, machine, part, plan, saveFolder, SFS, Z } from "../helpers/machines.js";

describe("copy to RAM (1.8)", () => {
  const ram = (p: ReturnType<typeof plan>) =>
    Object.fromEntries(p.layers.filter((l) => l.role !== "rw").map((l) => [l.role, l.ram]));
  const m = (ramMiB: number, sizes: { main: number; z: number; a?: number }) =>
    machine(
      [
        disk("sda", "ata", [
          part("sda1", "ext4", {
            [`/${SFS}`]: sizes.main,
            [`/${Z}`]: sizes.z,
            ...(sizes.a ? { [`/${A}`]: sizes.a } : {}),
          }),
        ]),
      ],
      { ramMiB },
    );
  it("automatic: copies while 64 MiB stay free, in priority order (main, adrv, ..., zdrv)", () => {
    // tmpfs = 1024 MiB; main 600 fits (424 left); adrv 300 fits (124 left); zdrv 100 would leave 24 < 64.
    assert.deepEqual(ram(plan(m(2048, { main: 600, z: 100, a: 300 }))), { adrv: true, puppy: true, zdrv: false });
  });
  it("automatic: a layer that does not fit does not stop a smaller one after it", () => {
    // tmpfs = 1024: main 900 fits (124 left); adrv 200 does not; zdrv 50 leaves 74 >= 64.
    assert.deepEqual(ram(plan(m(2048, { main: 900, z: 50, a: 200 }))), { adrv: false, puppy: true, zdrv: true });
  });
  it("automatic: nothing is copied with 1 GiB of RAM or less", () => {
    const p = plan(m(1024, { main: 50, z: 10 }));
    assert.deepEqual(ram(p), { puppy: false, zdrv: false });
    assert.ok(hasLog(p, /copy only with pfix=copy/));
  });
  it("pfix=copy copies whatever fits, even with 1 GiB of RAM or less", () => {
    assert.deepEqual(ram(plan(m(1024, { main: 400, z: 100 }), "pfix=copy")), { puppy: true, zdrv: true });
    assert.deepEqual(ram(plan(m(512, { main: 300, z: 100 }), "pfix=copy")), { puppy: false, zdrv: true });
  });
  it("pfix=ram copies like pfix=copy", () =>
    assert.deepEqual(ram(plan(m(1024, { main: 100, z: 10 }), "pfix=ram")), { puppy: true, zdrv: true }));
  it("pfix=nocopy never copies", () => {
    const p = plan(m(16384, { main: 10, z: 10 }), "pfix=nocopy");
    assert.deepEqual(ram(p), { puppy: false, zdrv: false });
    assert.equal(p.copyMode, "no");
  });
  it("copies only what fits in the memory still free, less what the running system needs", () => {
    // Half of 1024 MiB could hold both, but only 200 MiB is free (the initrd holds the rest).
    const d = decideCopies(
      1024,
      "yes",
      [
        { key: "puppy", sizeMiB: 100, inInitrd: false },
        { key: "zdrv", sizeMiB: 90, inInitrd: false },
      ],
      200,
    );
    assert.deepEqual(
      d.map((x) => [x.key, x.ram]),
      [
        ["puppy", true],
        ["zdrv", false],
      ],
    );
    assert.match(d[1]!.reason, /does not fit in the 36 MiB left in RAM/);
    assert.deepEqual(
      decideCopies(1024, "yes", [{ key: "puppy", sizeMiB: 100, inInitrd: false }], 100).map((x) => x.ram),
      [false],
      "never the last of the RAM",
    );
  });
  it("an SFS in the initrd is in RAM even with nocopy", () => {
    assert.deepEqual(decideCopies(512, "no", [{ key: "puppy", sizeMiB: 100, inInitrd: true }]), [
      { key: "puppy", ram: true, reason: "in the initrd: already in RAM" },
    ]);
  });
});

describe("search order and pmedia (1.5)", () => {
  it("pmedia=usbflash searches USB drives only", () => {
    const m = machine([
      disk("sda", "ata", [part("sda1", "ext4", frugal())]),
      disk("sdb", "usb", [part("sdb1", "vfat", frugal())]),
    ]);
    const p = plan(m, "pmedia=usbflash");
    assert.equal(p.bootPartition, "sdb1");
    assert.ok(hasLog(p, /only USB drives are searched \(sdb1\)/));
  });
  it("pmedia=usbhd with no USB drive: not found, and waiting may help", () => {
    const p = plan(machine([disk("sda", "ata", [part("sda1", "ext4", frugal())])]), "pmedia=usbhd");
    assert.match(p.fatal ?? "", /searched: none/);
    assert.deepEqual(p.pending, [SFS]);
  });
  it("pmedia=cd looks for saves on every partition, also those after the main SFS", () => {
    const m = machine([
      disk("sda", "ata", [part("sda1", "ext4", {}), part("sda2", "ext4", saveFolder("/tinysave"))]),
      disk("sr0", "cd", [part("sr0", "iso9660", { [`/${SFS}`]: 50 })], { removable: true }),
    ]);
    const p = plan(m, "pmedia=cd");
    assert.deepEqual([p.bootPartition, p.save.partition, p.save.path], ["sr0", "sda2", "/tinysave"]);
    const n = machine([
      disk("sda", "ata", [part("sda1", "ext4", { [`/${SFS}`]: 50 }), part("sda2", "ext4", saveFolder("/tinysave"))]),
    ]);
    assert.equal(plan(n, "pmedia=cd").save.partition, "sda2", "saves after the SFS partition are found too");
  });
});

describe("boot from an ISO file", () => {
  const iso = { sizeMiB: 200, fstype: "iso9660", files: { [`/${SFS}`]: 150, [`/${Z}`]: 40 } };
  const m = (more: Record<string, unknown> = {}) =>
    machine([disk("sda", "ata", [part("sda1", "ext4", { "/isos/tiny.iso": iso, ...(more as object) })])]);
  it("finds the ISO, stacks its SFS and looks for saves beside it", () => {
    const p = plan(m(saveFolder("/isos/tinysave")), "isofrom=/isos/tiny.iso");
    assert.equal(p.fatal, null);
    assert.deepEqual(p.iso, { partition: "sda1", path: "/isos/tiny.iso" });
    assert.deepEqual(p.layers.find((l) => l.role === "puppy")?.partition, "iso");
    assert.deepEqual([p.save.partition, p.save.path], ["sda1", "/isos/tinysave"]);
    assert.equal(p.pmedia, "iso");
    assert.equal(p.pupstate.PDEV1, "sda1");
  });
  it("a SAVESPEC beside the ISO is used and sets pmedia=atahd", () => {
    const p = plan(
      m({ "/isos/SAVESPEC": { content: "SS_DIR=/s\n" }, ...saveFolder("/s/tinysave") }),
      "findiso=/isos/tiny.iso",
    );
    assert.deepEqual([p.save.path, p.pmedia, p.pupmode], ["/s/tinysave", "atahd", 12]);
  });
  it("a missing ISO is fatal", () => {
    const p = plan(m(), "isofrom=/nope.iso");
    assert.match(p.fatal ?? "", /ISO file \/nope.iso not found on sda1/);
  });
  it("iso_dev restricts where the ISO is looked for", () => {
    const p = plan(m(), "isofrom=/isos/tiny.iso iso_dev=sdb1");
    assert.match(p.fatal ?? "", /partition sdb1 holding the ISO/);
    assert.deepEqual(p.pending, ["sdb1"]);
  });
  it("keeps the ISO's partition mounted unless everything was copied", () => {
    assert.deepEqual(plan(m(), "isofrom=/isos/tiny.iso").keepMounted, []);
    assert.deepEqual(plan(m(), "isofrom=/isos/tiny.iso pfix=nocopy").keepMounted, ["sda1"]);
  });
});
