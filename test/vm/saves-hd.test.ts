// VM tier: saves on a fixed disk (PUPMODE 12): the save is the writable
// layer, so what is written is on disk and there after a reboot. A save that
// cannot be used leaves the boot in RAM and the save untouched.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Vm } from "../../src/vm/qemu.js";
import { makeDisk } from "../../src/build/disk.js";
import { mksquashfs } from "../../src/build/squashfs.js";
import { Vm as VmClass } from "../../src/vm/qemu.js";
import {
  boot,
  bootDisk,
  kernelVm,
  guestMounts,
  guestVars,
  lowerDirs,
  makeSaveFile,
  makeSfs,
  makeTree,
  scratch,
  testBuild,
} from "../helpers/system.js";

describe("saves on a fixed disk (PUPMODE 12)", { timeout: 900000 }, () => {
  const vms: Vm[] = [];
  after(async () => Promise.all(vms.map((vm) => vm.kill())));
  const start = async (disk: string, cmdline = ""): Promise<Vm> => {
    const { vm } = await boot(testBuild(), [{ file: disk, bus: "virtio" }], cmdline);
    vms.push(vm);
    return vm;
  };

  it("a save folder is the writable layer, and a file written there is back after a reboot", async () => {
    const dir = scratch("save-folder");
    const save = makeTree(join(dir, "save"), { "upper/root/from-before.txt": "kept\n" });
    const app = makeSfs(join(dir, "myapp.sfs"), { "usr/share/myapp/hello": "from an extra SFS\n" });
    const disk = bootDisk({ build: testBuild(), dir, extra: { tinysave: save, "myapp.sfs": app } });
    let vm = await start(disk);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "12");
    assert.equal(s.PUPSAVE, "vda1,ext4,/tinysave");
    assert.equal(s.SAVE_LAYER, "/pup_rw");
    assert.deepEqual([s.PSAVEPART, s.PSAVEDIR], ["", ""], "found beside the main SFS: empty, as Puppy leaves them");
    const mounts = await guestMounts(vm);
    const root = mounts.get("/")!;
    // What Puppy's scripts read: the union by its source, the layer itself at /initrd/pup_rw.
    assert.equal(root.source, "unionfs");
    assert.match(root.options, /upperdir=\/pup_rw,workdir=\/pup_work/);
    assert.match(root.options, /(^|,)xino=on(,|$)/);
    assert.deepEqual(lowerDirs(root.options), ["/pup_ro2", "/pup_z"]);
    assert.equal(await vm.check("grep -c ^unionfs /proc/mounts"), "1");
    assert.equal(await vm.check("readlink /initrd/pup_rw"), "/initrd/mnt/dev_save/tinysave/upper");
    assert.match(await vm.check("ls -1 /initrd/pup_rw"), /^root$/m, "the layer's own files, not upper/ and work/");
    // The save's partition is mounted once, at /initrd/mnt/dev_save.
    assert.equal(await vm.check("grep -c '^/dev/vda1 ' /proc/mounts"), "1");
    assert.equal(mounts.get("/initrd/mnt/dev_save")?.source, "/dev/vda1");
    // xino: one st_dev for every file of / (a file of the save, of the main SFS, of the zdrv, and a directory).
    assert.equal(
      await vm.check("stat -c %d /root/from-before.txt /bin/busybox /lib/modules /etc | sort -u | wc -l"),
      "1",
    );
    assert.equal(await vm.check("cat /root/from-before.txt"), "kept");
    await vm.check("echo written-in-session-1 > /root/new.txt; rm /root/from-before.txt; sync");
    // An extra SFS to load from the next boot on, as Puppy's SFS loader records it.
    await vm.check("echo \"EXTRASFSLIST='myapp.sfs'\" >> /etc/rc.d/BOOTCONFIG; sync");
    await vm.kill();

    vm = await start(disk);
    assert.equal(await vm.check("cat /root/new.txt"), "written-in-session-1");
    assert.equal(
      await vm.check("test -e /root/from-before.txt && echo there || echo gone"),
      "gone",
      "a deletion is kept too",
    );
    assert.deepEqual(lowerDirs((await guestMounts(vm)).get("/")!.options), ["/pup_ro2", "/pup_z", "/pup_ro3"]);
    assert.equal(await vm.check("cat /usr/share/myapp/hello"), "from an extra SFS");
    assert.match(await vm.check("cat /etc/rc.d/BOOTCONFIG"), /^EXTRASFSLIST='myapp\.sfs'$/m, "the init keeps the list");
    await vm.kill();
  });

  it("a .4fs save file is loop-mounted as the writable layer", async () => {
    const dir = scratch("save-file");
    const save = makeSaveFile(join(dir, "tinysave.4fs"), { "upper/etc/from-save": "in the save file\n" });
    const vm = await start(bootDisk({ build: testBuild(), dir, extra: { "tinysave.4fs": save } }));
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "12");
    assert.equal(s.PUPSAVE, "vda1,ext4,/tinysave.4fs");
    const mounts = await guestMounts(vm);
    // The save file's filesystem is at /initrd/pup_loop, and /initrd/pup_rw is its layer, as in Puppy.
    assert.match(mounts.get("/initrd/pup_loop")?.source ?? "", /^\/dev\/loop\d+$/);
    assert.equal(await vm.check("readlink /initrd/pup_rw"), "/initrd/pup_loop/upper");
    assert.equal(await vm.check("cat /etc/from-save"), "in the save file");
    await vm.check("echo new > /root/x; sync");
    assert.equal(await vm.check("cat /initrd/pup_rw/root/x"), "new");
    await vm.kill();
  });

  it("a corrupt save file: the boot goes on in RAM, says why, and leaves the file as it was", async () => {
    const dir = scratch("save-corrupt");
    const bad = join(dir, "tinysave.4fs");
    writeFileSync(bad, Buffer.alloc(4 << 20, 0x5a));
    const vm = await start(bootDisk({ build: testBuild(), dir, extra: { "tinysave.4fs": bad } }));
    assert.match(vm.console, /the save vda1:\/tinysave\.4fs cannot be used/);
    assert.match(vm.console, /session in RAM/);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "5");
    assert.equal((await guestMounts(vm)).get("/")?.options.includes("upperdir=/mnt/tmpfs/pup_rw"), true);
    // Every byte still 'Z': nothing was written to the save.
    await vm.check("mkdir -p /mnt/check && mount -o ro /dev/vda1 /mnt/check");
    assert.equal(await vm.check("tr -d Z < /mnt/check/tinysave.4fs | wc -c"), "0");
    assert.equal(await vm.check("wc -c < /mnt/check/tinysave.4fs"), String(4 << 20));
    await vm.kill();
  });

  it("several saves: a console menu; the answer picks one", async () => {
    const dir = scratch("save-menu");
    const build = testBuild();
    const a = makeTree(join(dir, "a"), { "upper/root/which": "the first\n" });
    const b = makeTree(join(dir, "b"), { "upper/root/which": "the work one\n" });
    const disk = bootDisk({ build, dir, extra: { tinysave: a, "tinysave-work": b } });
    const vm = VmClass.start(kernelVm(build, [{ file: disk, bus: "virtio" }]));
    vms.push(vm);
    await vm.waitFor(/2 saves found\. Which one\?[\s\S]*2\) vda1 \/tinysave-work[\s\S]*Choice \[0\]/, 240000);
    vm.send("2\n");
    await vm.waitFor(/ramstack: system up \(PUPMODE 12\)/, 120000);
    await vm.shellReady(60000);
    assert.equal(await vm.check("cat /root/which"), "the work one");
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPSAVE, "vda1,ext4,/tinysave-work");
    await vm.kill();
  });

  it("a whole-partition save (upper/ at the partition's root, psave=UUID-PREFIX:/) is the writable layer", async () => {
    const dir = scratch("save-partition");
    const part = makeTree(join(dir, "part"), {
      "upper/etc/rc.d/PUPSTATE": "PUPMODE=12\n",
      "upper/root/where.txt": "whole partition\n",
      "work/": "",
    });
    const saveDisk = join(dir, "save-partition.img");
    makeDisk(saveDisk, {
      table: "mbr",
      partitions: [
        { fstype: "ext4", label: "WHOLESAVE", uuid: "5eed0a11-1111-4222-8333-444455556666", sizeMiB: 32, from: part },
      ],
    });
    const disks = [
      { file: bootDisk({ build: testBuild(), dir }), bus: "virtio" as const },
      { file: saveDisk, bus: "virtio" as const },
    ];
    let { vm } = await boot(testBuild(), disks, "psave=5eed0a:/");
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "12");
    assert.equal(s.PUPSAVE, "vdb1,ext4,", "a whole-partition save has no path, as in Puppy");
    assert.deepEqual([s.PSAVEPART, s.PSAVEDIR], ["vdb1", "/"], "the place psave= gave");
    assert.match((await guestMounts(vm)).get("/")!.options, /upperdir=\/pup_rw,/);
    assert.equal(await vm.check("readlink /initrd/pup_rw"), "/initrd/mnt/dev_save/upper");
    assert.equal(await vm.check("cat /root/where.txt"), "whole partition");
    assert.match(await vm.check("cat /initrd/tmp/bootinit.log"), /vdb1 is a whole-partition save/);
    await vm.check("echo second > /root/second.txt; sync");
    await vm.kill();

    ({ vm } = await boot(testBuild(), disks, "psave=5eed0a:/"));
    vms.push(vm);
    assert.equal(await vm.check("cat /root/second.txt"), "second");
    await vm.kill();
  });

  it("a save made by another version: the init asks; 'yes' uses it after the upgrade clean-up", async () => {
    const dir = scratch("save-upgrade");
    const save = makeTree(join(dir, "save"), {
      "upper/initrd/DISTRO_SPECS": "DISTRO_NAME='ramstack tiny'\nDISTRO_VERSION='0.0.9'\nDISTRO_FILE_PREFIX='tiny'\n",
      "upper/etc/rc.d/rc.sysinit": "# the old version's\n",
      "upper/etc/rc.d/rc.local": "# mine\n",
      "upper/root/kept.txt": "kept\n",
      "work/": "",
    });
    // The old version deleted vi; the new one brings it back.
    mkdirSync(join(save, "upper/bin"));
    assert.equal(spawnSync("mknod", [join(save, "upper/bin/vi"), "c", "0", "0"]).status, 0);
    const build = testBuild();
    const vm = VmClass.start(
      kernelVm(build, [{ file: bootDisk({ build, dir, extra: { tinysave: save } }), bus: "virtio" }]),
    );
    vms.push(vm);
    await vm.waitFor(
      /the save was made by version 0\.0\.9, this is 0\.1\.0\. Use it anyway\?[\s\S]*Choice \[no\]/,
      240000,
    );
    vm.send("yes\n");
    await vm.waitFor(/ramstack: system up \(PUPMODE 12\)/, 120000);
    await vm.shellReady(60000);
    const log = await vm.check("cat /initrd/tmp/bootinit.log");
    assert.deepEqual(
      Array.from(log.matchAll(/upgrade clean-up: removed (\S+)/g), (m) => m[1]).sort(),
      ["bin/vi", "etc/rc.d/rc.sysinit"],
      log,
    );
    assert.equal(await vm.check("cat /root/kept.txt"), "kept");
    assert.equal(await vm.check("cat /etc/rc.d/rc.local"), "# mine");
    assert.notEqual(await vm.check("head -1 /etc/rc.d/rc.sysinit"), "# the old version's");
    assert.equal(await vm.check("test -e /bin/vi && echo back"), "back");
    assert.equal(await vm.check("test -e /tmp/version_update_flag && echo flagged"), "flagged");
    // The save now carries this version: the next boot does not ask again.
    assert.match(await vm.check("cat /initrd/pup_rw/initrd/DISTRO_SPECS"), /^DISTRO_VERSION='?0\.1\.0'?$/m);
    await vm.kill();
  });

  it("bad input all at once: a corrupt adrv, a missing label, a save made for aufs, too little RAM to copy all; the boot goes on and touches nothing", async () => {
    const dir = scratch("bad-input");
    const adrv = join(dir, "adrv.sfs");
    writeFileSync(adrv, Buffer.concat([Buffer.from("hsqs"), Buffer.alloc(65532, 0x5a)]));
    // aufs keeps the layer's files at the folder's root; overlay needs upper/ and work/.
    const save = makeTree(join(dir, "save"), { "etc/aufs-era.conf": "x\n" });
    // 80 MiB that does not compress: with the zdrv, more than the RAM left to copy into.
    const ydrvTree = join(dir, "ydrv");
    mkdirSync(join(ydrvTree, "usr/share"), { recursive: true });
    writeFileSync(join(ydrvTree, "usr/share/noise"), randomBytes(80 * 1048576));
    const ydrv = join(dir, "ydrv.sfs");
    mksquashfs(ydrvTree, ydrv, { compression: { comp: "gzip" }, epoch: 1767225600 });
    const disk = bootDisk({
      build: testBuild(),
      dir,
      extra: { "adrv_tiny_0.1.0.sfs": adrv, "ydrv_tiny_0.1.0.sfs": ydrv, tinysave: save },
    });
    const { vm } = await boot(
      testBuild(),
      [{ file: disk, bus: "virtio" }],
      "pfix=copy fdrv=NOSUCH:/fdrv_tiny_0.1.0.sfs waitdev=2",
      { memMiB: 256 },
    );
    vms.push(vm);
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "5");
    const log = await vm.check("cat /initrd/tmp/bootinit.log");
    assert.match(log, /Warning: adrv .* is left out/);
    const outcome = (
      JSON.parse(await vm.check("cat /initrd/tmp/bootinit.json")) as {
        outcome: { steps: { name: string; result: string }[] };
      }
    ).outcome;
    assert.equal(
      outcome.steps.find((x) => x.name.startsWith("adrv"))?.result,
      "left out",
      "the outcome beside the plan says so too",
    );
    assert.match(log, /fdrv=NOSUCH:\/fdrv_tiny_0\.1\.0\.sfs: no partition NOSUCH; booting without it/);
    assert.match(log, /made for aufs, this boot uses overlay: booting in RAM/);
    assert.match(log, /copy: puppy: to RAM/);
    assert.equal(
      await vm.check("ls /initrd/mnt/tmpfs | grep -c adrv; true"),
      "0",
      "the unusable adrv's copy is gone from RAM",
    );
    assert.match(log, /copy: (ydrv|zdrv): stays on disk: \d+ MiB does not fit in the -?\d+ MiB left in RAM/);
    assert.deepEqual(lowerDirs((await guestMounts(vm)).get("/")!.options), ["/pup_y", "/pup_ro2", "/pup_z"]);
    assert.equal(await vm.check("ls -A /initrd/mnt/vda1/tinysave"), "etc", "the save gained no upper/ or work/");
    await vm.kill();
  });
});
