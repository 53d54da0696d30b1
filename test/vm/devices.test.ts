// VM tier: other kinds of drive. The frugal files on partition 1 and a save
// folder on partition 2 of one disk, with SAVEMARK naming partition 2: on an
// NVMe drive that is nvme0n1p2, on an SD card mmcblk0p2 (the 'p' separator
// Puppy's SAVEMARK got wrong). The SD card also needs a second round of
// drivers: the card appears only once the SDHCI controller's driver is in.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { linkSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeDisk } from "../../src/build/disk.js";
import { frugalFiles } from "../../src/vm/frugal-disk.js";
import type { Vm } from "../../src/vm/qemu.js";
import { boot, guestVars, makeTree, scratch, testBuild } from "../helpers/system.js";

describe("NVMe drives, SD cards, and SAVEMARK", { timeout: 600000 }, () => {
  const vms: Vm[] = [];
  let disk = "";
  before(() => {
    const dir = scratch("devices");
    const stage = join(dir, "frugal");
    mkdirSync(stage);
    for (const f of frugalFiles(testBuild())) linkSync(join(testBuild(), f), join(stage, f));
    writeFileSync(join(stage, "SAVEMARK"), "2\n");
    // initmodules.txt beside the save: dummy is a module of the zdrv only.
    const save = makeTree(join(dir, "save"), {
      "tinysave/upper/root/where.txt": "partition 2\n",
      "tinysave/work/": "",
      "tinyinitmodules.txt": "dummy\n",
    });
    // 256 MiB in all: QEMU's SD cards must be a power of two.
    disk = join(dir, "two-partitions.img");
    makeDisk(disk, {
      table: "mbr",
      powerOfTwo: true,
      partitions: [
        { fstype: "ext4", label: "BOOT", sizeMiB: 200, from: stage },
        { fstype: "ext4", label: "SAVES", sizeMiB: 54, from: save },
      ],
    });
  });
  after(async () => Promise.all(vms.map((vm) => vm.kill())));

  it("NVMe: SAVEMARK 2 is nvme0n1p2", async () => {
    const { vm } = await boot(testBuild(), [{ file: disk, bus: "nvme" }]);
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.match(s.PUPSFS!, /^nvme0n1p1,ext4,\/puppy_tiny_/);
    assert.equal(s.PUPSAVE, "nvme0n1p2,ext4,/tinysave");
    assert.equal(await vm.check("cat /root/where.txt"), "partition 2");
    await vm.kill();
  });

  it("SD card (SDHCI): SAVEMARK 2 is mmcblk0p2", async () => {
    const { vm } = await boot(testBuild(), [{ file: disk, bus: "sd" }]);
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    const log = await vm.check("cat /initrd/tmp/bootinit.log");
    assert.match(s.PUPSFS!, /^mmcblk0p1,ext4,\/puppy_tiny_/);
    assert.equal(s.PUPSAVE, "mmcblk0p2,ext4,/tinysave", log);
    // QEMU's card is not removable: as in Puppy, the save is then the writable layer.
    assert.equal(s.PUPMODE, "12");
    assert.equal(await vm.check("cat /root/where.txt"), "partition 2");
    assert.match(log, /# modprobe -a -q mmc:block/, "the card's driver came in a later round");
    assert.match(log, /initmodules: loaded from the layers: dummy/);
    assert.equal(await vm.check("test -d /sys/module/dummy && echo loaded"), "loaded");
    await vm.kill();
  });
});
