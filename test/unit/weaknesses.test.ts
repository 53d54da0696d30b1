// Each of the Puppy weaknesses ramstack fixes (README.md, "Where ramstack differs from Puppy"), shown fixed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { disk, frugal, machine, part, plan, saveFolder, SFS, specsText } from "../helpers/machines.js";

describe("Puppy's weaknesses, fixed", () => {
  it("no fixed sleeps: a missing device is 'pending' (the init waits for it up to waitdev), and every question has a timeout", () => {
    const p = plan(machine([disk("sda", "ata", [part("sda1", "ext4", frugal())])]), "psave=NOTYET:/ waitdev=9");
    assert.deepEqual([p.pending, p.waitdev, p.fatal], [["NOTYET"], 9, null]);
    const q = plan(
      machine([
        disk("sda", "ata", [
          part("sda1", "ext4", frugal("", { ...saveFolder("/tinysave"), ...saveFolder("/tinysave-2") })),
        ]),
      ]),
    );
    assert.ok(q.questions.length > 0 && q.questions.every((x) => x.timeoutSec > 0 && x.timeoutSec <= 60));
  });
  it("natural partition order: sda2 is searched before sda10", () => {
    const m = machine([disk("sda", "ata", [part("sda10", "ext4", frugal()), part("sda2", "ext4", frugal())])]);
    assert.equal(plan(m).bootPartition, "sda2");
  });
  it("pmedia=usb* restricts the search to USB drives, not just reorders it", () => {
    const m = machine([
      disk("sda", "ata", [part("sda1", "ext4", frugal())]),
      disk("sdb", "usb", [part("sdb1", "ext4")]),
    ]);
    assert.notEqual(plan(m, "pmedia=usbflash").fatal, null);
  });
  it("USB detection does not depend on sd* names (an NVMe drive in a USB enclosure counts)", () => {
    const m = machine([
      disk("sda", "ata", [part("sda1", "ext4", frugal())]),
      disk("nvme0n1", "usb", [part("nvme0n1p1", "ext4", frugal())]),
    ]);
    assert.equal(plan(m, "pmedia=usbflash").bootPartition, "nvme0n1p1");
  });
  it("a label prefix matching two partitions is a clear error naming both", () => {
    const m = machine([
      disk("sda", "ata", [
        part("sda1", "ext4", frugal(), { label: "PUPPY1" }),
        part("sda2", "ext4", frugal(), { label: "PUPPY2" }),
      ]),
    ]);
    const p = plan(m, "pupsfs=PUPPY");
    assert.match(
      p.fatal ?? "",
      /'PUPPY' matches more than one partition by label prefix: sda1 \(ext4, label PUPPY1\) and sda2 \(ext4, label PUPPY2\)/,
    );
    const s = plan(m, "pupsfs=sda1 psave=PUP");
    assert.equal(s.fatal, null);
    assert.match(s.warnings.join(), /'PUP' matches more than one partition.*booting without a save/);
  });
  it("SAVEMARK works on NVMe and MMC drives (the p separator)", () => {
    for (const [d, save] of [
      ["nvme0n1", "nvme0n1p4"],
      ["mmcblk0", "mmcblk0p2"],
    ] as const) {
      const m = machine([
        disk(d, d.startsWith("nvme") ? "nvme" : "mmc", [
          part(`${d}p1`, "vfat", frugal("", { "/SAVEMARK": { content: save.slice(-1) } })),
          part(save, "ext4", saveFolder("/tinysave")),
        ]),
      ]);
      const p = plan(m);
      assert.equal(p.save.partition, save, d);
    }
  });
  it("root=/dev/sdXN works", () => {
    const m = machine([disk("sda", "ata", [part("sda1", "ext4"), part("sda2", "ext4", frugal())])]);
    assert.equal(plan(m, "root=/dev/sda2").bootPartition, "sda2");
  });
  it("pfix=copy is honoured with 1 GiB of RAM or less when the files fit", () => {
    const m = machine([disk("sda", "ata", [part("sda1", "ext4", frugal())])], { ramMiB: 768 });
    assert.ok(
      plan(m, "pfix=copy")
        .layers.filter((l) => l.role !== "rw")
        .every((l) => l.ram),
    );
  });
  it("automatic copy keeps at least 64 MiB free and goes in priority order", () => {
    // tmpfs 1024: main 960 + 64 = 1024 fits exactly; zdrv 40 does not.
    const m = machine([disk("sda", "ata", [part("sda1", "ext4", { [`/${SFS}`]: 960, "/zdrv_tiny_1.0.0.sfs": 1 })])], {
      ramMiB: 2048,
    });
    const p = plan(m);
    assert.deepEqual(
      p.layers.filter((l) => l.role !== "rw").map((l) => [l.role, l.ram]),
      [
        ["puppy", true],
        ["zdrv", false],
      ],
    );
  });
  it("a missing psave device does no harm: a warning, no pause, the boot goes on", () => {
    const p = plan(machine([disk("sda", "ata", [part("sda1", "ext4", frugal())])]), "psave=GONE");
    assert.deepEqual([p.fatal, p.pupmode], [null, 5]);
    assert.match(p.warnings.join(), /no partition GONE/);
  });
  it("a save from another distro version is asked about, defaults to RAM, and nothing is cleaned without consent", () => {
    const m = machine([
      disk("sda", "ata", [
        part("sda1", "ext4", frugal("", saveFolder("/tinysave", {}, specsText("ramstack tiny", "0.5.0")))),
      ]),
    ]);
    const p = plan(m);
    assert.deepEqual([p.pupmode, p.upgrade.status, p.upgrade.clean, p.questions[0]?.default], [5, "ask", false, "no"]);
  });
  it("a whole-partition save made under overlay (upper/) is found again", () => {
    const m = machine([
      disk("sda", "ata", [
        part("sda1", "ext4", frugal()),
        part("sda2", "ext4", { "/upper/etc/rc.d/PUPSTATE": { content: "PUPMODE=12" }, "/work": "dir" }),
      ]),
    ]);
    assert.equal(plan(m, "psave=sda2").save.kind, "partition");
  });
  it("the boot explains itself: every decision has a topic and a reason", () => {
    const p = plan(machine([disk("sdb", "usb", [part("sdb1", "ext4", frugal("", saveFolder("/tinysave")))])]));
    const topics = new Set(p.decisions.map((d) => d.topic));
    for (const t of ["cmdline", "distro_specs", "union", "devices", "puppy", "save", "upgrade", "copy"])
      assert.ok(topics.has(t), t);
    assert.ok(p.decisions.some((d) => d.topic === "save" && /sdb is removable: flash mode/.test(d.message)));
  });
});
