// VM tier: saves the init does not find beside the main SFS by itself.
// An archive save on FAT (PUPMODE 66): made by 'ramstack save --new archive',
// unpacked into RAM at boot with its whiteouts and opaque directories, and
// replaced whole by the next save; when a power cut left only the new archive
// under its temporary name, the next boot uses it. A save folder on another disk: the first
// save writes a SAVESPEC beside the main SFS and the next boot follows it.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { makeDisk } from "../../src/build/disk.js";
import type { Vm } from "../../src/vm/qemu.js";
import { boot, bootDisk, guestMounts, guestVars, scratch, testBuild } from "../helpers/system.js";

// /initrd/pup_rw is the RAM layer whatever holds it (the tmpfs in PUPMODE 5, the archive's in 66). The
// guest has no getfattr: the runtime's engine asks the kernel (an empty line when the attribute is not set).
const OPAQUE = `/usr/lib/ramstack/runtime/bin/ramstack-js -e 'import * as sys from "ramstack:sys"; print(sys.lgetxattr("/initrd/pup_rw/var/log", "trusted.overlay.opaque", true) ?? "")'`;

describe("archive saves and saves found through SAVESPEC", { timeout: 900000 }, () => {
  const vms: Vm[] = [];
  after(async () => Promise.all(vms.map((vm) => vm.kill())));

  it("an archive save on FAT (PUPMODE 66) keeps files, whiteouts and opaque directories, and is replaced whole", async () => {
    const dir = scratch("archive");
    const disk = bootDisk({ build: testBuild(), dir, fstype: "vfat", label: "STICK" });
    let { vm }: { vm: Vm } = await boot(testBuild(), [{ file: disk, bus: "virtio" }]);
    vms.push(vm);
    await vm.check("echo first > /root/a.txt; rm /bin/vi; echo old > /var/log/old.log");
    // A directory of the session replaced by a new one: overlay marks the new one opaque.
    await vm.check("rm -rf /var/log && mkdir /var/log && echo new > /var/log/new.log");
    assert.equal(await vm.check(OPAQUE), "y");
    assert.match(
      await vm.check("ramstack save --new folder 2>&1; true", 120000),
      /folder needs a Linux filesystem.*--new archive/,
    );
    assert.match(
      await vm.check("ramstack save --new archive 2>&1", 120000),
      /Saved the session in .*\/tinysave66\.tar\.gz/,
    );
    await vm.check("sync");
    await vm.kill();

    ({ vm } = await boot(testBuild(), [{ file: disk, bus: "virtio" }]));
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "66");
    assert.equal(s.PUPSAVE, "vda1,vfat,/tinysave66.tar.gz");
    // As Puppy leaves it: the archive unpacked into a tmpfs of its own at /initrd/pup_rw66, /initrd/pup_rw its upper/.
    const mounts = await guestMounts(vm);
    assert.equal(mounts.get("/initrd/pup_rw66")?.fstype, "tmpfs");
    assert.match(mounts.get("/")!.options, /upperdir=\/pup_rw66\/upper,workdir=\/pup_rw66\/work/);
    assert.equal(await vm.check("readlink /initrd/pup_rw"), "/initrd/pup_rw66/upper");
    // vfat with Puppy's options.
    assert.match(
      await vm.check("cat /initrd/tmp/bootinit.log"),
      /# mount -t vfat -o noatime,shortname=mixed,quiet,utf8 \/dev\/vda1 /,
    );
    assert.equal(await vm.check("cat /root/a.txt"), "first");
    assert.equal(
      await vm.check("test -e /bin/vi && echo there || echo gone"),
      "gone",
      "the whiteout came back from the archive",
    );
    assert.equal(await vm.check(OPAQUE), "y", "the opaque directory came back from the archive");
    assert.equal(await vm.check("ls /var/log"), "new.log");
    await vm.check("echo second > /root/b.txt; rm /root/a.txt");
    assert.match(await vm.check("ramstack save 2>&1", 120000), /Saved the session in vda1:\/tinysave66\.tar\.gz/);
    const files = await vm.check("mkdir -p /mnt/s && mount -t vfat /dev/vda1 /mnt/s && ls -1 /mnt/s; umount /mnt/s");
    assert.match(files, /^tinysave66\.tar\.gz$/m);
    assert.doesNotMatch(files, /\.new/, "the new archive replaced the old one; no temporary file is left");
    await vm.check("sync");
    await vm.kill();

    // A Spanish keyboard: vfat gets codepage 850, as in Puppy.
    ({ vm } = await boot(testBuild(), [{ file: disk, bus: "virtio" }], "pkeys=es"));
    vms.push(vm);
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "66");
    assert.match(
      await vm.check("cat /initrd/tmp/bootinit.log"),
      /# mount -t vfat -o noatime,shortname=mixed,quiet,utf8,codepage=850 \/dev\/vda1 /,
    );
    assert.equal(await vm.check("cat /root/b.txt"), "second");
    assert.equal(await vm.check("test -e /root/a.txt && echo there || echo gone"), "gone");
    // As a power cut during the rename on FAT can leave it: only the new archive, under its temporary name.
    await vm.check(
      "mkdir -p /mnt/s && mount -t vfat /dev/vda1 /mnt/s && mv /mnt/s/tinysave66.tar.gz /mnt/s/tinysave66.tar.gz.new && umount /mnt/s && sync",
    );
    await vm.kill();

    ({ vm } = await boot(testBuild(), [{ file: disk, bus: "virtio" }]));
    vms.push(vm);
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPSAVE, "vda1,vfat,/tinysave66.tar.gz");
    assert.equal(await vm.check("cat /root/b.txt"), "second", "the session came from tinysave66.tar.gz.new");
    assert.match(await vm.check("cat /initrd/tmp/bootinit.log"), /only \/tinysave66\.tar\.gz\.new is there/);
    assert.match(await vm.check("ramstack save 2>&1", 120000), /Saved the session in vda1:\/tinysave66\.tar\.gz/);
    assert.equal(
      await vm.check(
        "mkdir -p /mnt/s && mount -t vfat /dev/vda1 /mnt/s && ls -1 /mnt/s | grep tinysave; umount /mnt/s",
      ),
      "tinysave66.tar.gz",
    );
    await vm.kill();
  });

  it("a first save on another disk writes SAVESPEC; the next boot finds the save through it", async () => {
    const dir = scratch("savespec");
    const disk = bootDisk({ build: testBuild(), dir });
    const other = join(dir, "saves.img");
    makeDisk(other, { table: "mbr", partitions: [{ fstype: "ext4", label: "SAVES", sizeMiB: 48 }] });
    let { vm }: { vm: Vm } = await boot(testBuild(), [
      { file: disk, bus: "virtio" },
      { file: other, bus: "virtio" },
    ]);
    vms.push(vm);
    await vm.check("echo elsewhere > /root/where.txt");
    const out = await vm.check("ramstack save --new folder --partition vdb1 --dir /keep 2>&1", 120000);
    assert.match(out, /Saved the session in .*\/keep\/tinysave .*; the next boot uses it \(PUPMODE 12\)/);
    assert.match(out, /Wrote vda1:\/SAVESPEC/);
    // The save's drive is another one, of another kind than PMEDIA says: SS_MEDIA too (virtio disks count as rotational).
    assert.equal(await vm.check("cat /initrd/mnt/vda1/SAVESPEC"), "SS_ID='SAVES'\nSS_DIR='/keep'\nSS_MEDIA='atahd'");
    await vm.check("sync");
    await vm.kill();

    ({ vm } = await boot(testBuild(), [
      { file: disk, bus: "virtio" },
      { file: other, bus: "virtio" },
    ]));
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "12");
    assert.equal(s.PUPSAVE, "vdb1,ext4,/keep/tinysave");
    assert.equal(await vm.check("cat /root/where.txt"), "elsewhere");
    await vm.kill();
  });
});
