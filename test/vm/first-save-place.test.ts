// VM tier: a first save goes where the next boot looks. With psave= on a
// second disk, or SAVEMARK naming another partition, and no save there yet,
// PUPSTATE names that place (PSAVEPART, PSAVEDIR with a trailing slash, as
// Puppy's first-save dialog reads them); `ramstack save --new` and the
// shutdown dialog's default answer make the save there, and a second boot
// with the same command line has the session.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { linkSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { makeDisk } from "../../src/build/disk.js";
import { frugalFiles } from "../../src/vm/frugal-disk.js";
import type { Vm } from "../../src/vm/qemu.js";
import { boot, bootDisk, guestVars, makeTree, scratch, testBuild, waitExit } from "../helpers/system.js";

describe("the first save goes where the next boot looks", { timeout: 900000 }, () => {
  const vms: Vm[] = [];
  after(async () => Promise.all(vms.map((vm) => vm.kill())));
  const start = async (disks: Parameters<typeof boot>[1], cmdline = ""): Promise<Vm> => {
    const { vm } = await boot(testBuild(), disks, cmdline);
    vms.push(vm);
    return vm;
  };

  it("psave=LABEL:/saves/ on a second disk with no save yet: ramstack save --new folder puts it there, and the next boot uses it", async () => {
    const dir = scratch("place-psave");
    const saves = join(dir, "saves.img");
    makeDisk(saves, { table: "mbr", partitions: [{ fstype: "ext4", label: "SAVES", sizeMiB: 48 }] });
    const disks = [
      { file: bootDisk({ build: testBuild(), dir }), bus: "virtio" as const },
      { file: saves, bus: "virtio" as const },
    ];
    const cmdline = "psave=SAVES:/saves/";
    let vm = await start(disks, cmdline);
    let s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.deepEqual([s.PUPMODE, s.PSAVEPART, s.PSAVEDIR], ["5", "vdb1", "/saves/"]);
    await vm.check("echo in-the-first-session > /root/mine.txt");
    const said = await vm.check("ramstack save --new folder 2>/dev/null");
    assert.match(said, /Saved the session in \S*\/saves\/tinysave .*; the next boot uses it \(PUPMODE 12\)\./, said);
    assert.doesNotMatch(said, /SAVESPEC/, "the save is where psave= looks: no SAVESPEC is needed");
    await vm.kill();

    vm = await start(disks, cmdline);
    s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.deepEqual(
      [s.PUPMODE, s.PUPSAVE, s.PSAVEPART, s.PSAVEDIR],
      ["12", "vdb1,ext4,/saves/tinysave", "vdb1", "/saves/"],
    );
    assert.equal(await vm.check("cat /root/mine.txt"), "in-the-first-session");
    assert.equal(await vm.check("readlink /initrd/pup_rw"), "/initrd/mnt/dev_save/saves/tinysave/upper");
    await vm.kill();
  });

  it("SAVEMARK 2 with no save yet: the shutdown dialog's default answers put the save on partition 2, and the next boot uses it", async () => {
    const dir = scratch("place-savemark");
    const stage = join(dir, "frugal");
    mkdirSync(stage);
    for (const f of frugalFiles(testBuild())) linkSync(join(testBuild(), f), join(stage, f));
    makeTree(stage, { SAVEMARK: "2\n" });
    const disk = join(dir, "two-partitions.img");
    makeDisk(disk, {
      table: "mbr",
      partitions: [
        { fstype: "ext4", label: "BOOT", sizeMiB: 200, from: stage },
        { fstype: "ext4", label: "SAVES", sizeMiB: 48 },
      ],
    });
    const disks = [{ file: disk, bus: "virtio" as const }];
    let vm = await start(disks);
    let s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.deepEqual([s.PUPMODE, s.PSAVEPART, s.PSAVEDIR], ["5", "vda2", "/"]);
    await vm.check("echo kept-by-the-dialog > /root/dialog.txt");
    vm.send("poweroff\n");
    const from = vm.console.length;
    await vm.waitFor(/Save it in a \[f\]older/, 120000, from);
    vm.send("f\n");
    // The place the init looks at is the default: Enter takes it.
    await vm.waitFor(/On which partition\? .*\[vda2\]: /, 60000, from);
    vm.send("\n");
    await vm.waitFor(/A name for the save/, 60000, from);
    vm.send("\n");
    await vm.waitFor(/Saved the session in \S+\/tinysave; the next boot uses it \(PUPMODE 12\)/, 120000, from);
    await waitExit(vm, 60000);

    vm = await start(disks);
    s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.deepEqual([s.PUPMODE, s.PUPSAVE], ["12", "vda2,ext4,/tinysave"]);
    assert.equal(await vm.check("cat /root/dialog.txt"), "kept-by-the-dialog");
    await vm.kill();
  });
});
