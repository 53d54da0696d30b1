// VM tier: filesystem checks. The init marks a session open (fsckme.flg on
// the save's partition) and the shutdown path removes the mark; after a power
// cut the next boot finds it and runs e2fsck on the partition and the save
// file before using them. pfix=fsck checks the save file every boot.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Vm } from "../../src/vm/qemu.js";
import { boot, bootDisk, guestVars, makeSaveFile, scratch, testBuild, waitExit } from "../helpers/system.js";

describe("filesystem checks", { timeout: 900000 }, () => {
  const vms: Vm[] = [];
  after(async () => Promise.all(vms.map((vm) => vm.kill())));

  it("after a power cut the next boot checks the partition and the save file (fsckme.flg)", async () => {
    const dir = scratch("fsck-unclean");
    const save = makeSaveFile(join(dir, "tinysave.4fs"), { "upper/root/x": "x\n" });
    const disk = bootDisk({ build: testBuild(), dir, extra: { "tinysave.4fs": save } });
    let { vm } = await boot(testBuild(), [{ file: disk, bus: "usb" }]);
    vms.push(vm);
    assert.equal(await vm.check("cat /initrd/mnt/dev_save/fsckme.flg"), "sda1,ext4,/tinysave.4fs");
    await vm.check("sync");
    await vm.kill(); // the power cut

    ({ vm } = await boot(testBuild(), [{ file: disk, bus: "usb" }]));
    vms.push(vm);
    // Kernel messages may come between a check and its result.
    assert.match(vm.console, /Checking sda1 \(fsckme\.flg: unclean shutdown\)[\s\S]*?e2fsck: (clean|errors repaired)/);
    assert.match(
      vm.console,
      /Checking sda1:\/tinysave\.4fs \(fsckme\.flg: unclean shutdown\)[\s\S]*?e2fsck: (clean|errors repaired)/,
    );
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "13");
    assert.equal(await vm.check("cat /root/x"), "x");
    // A new mark for this session; a clean poweroff removes it.
    assert.equal(await vm.check("cat /initrd/mnt/dev_save/fsckme.flg"), "sda1,ext4,/tinysave.4fs");
    await vm.check("sed -i 's/^SAVE_TIMEOUT=.*/SAVE_TIMEOUT=1/' /etc/eventmanager");
    vm.send("poweroff\n");
    await vm.waitFor(/No answer: the session is not saved/, 120000);
    await waitExit(vm, 60000);

    ({ vm } = await boot(testBuild(), [{ file: disk, bus: "usb" }]));
    vms.push(vm);
    assert.doesNotMatch(vm.console, /Checking sda1/, "a clean shutdown leaves nothing to check");
    await vm.kill();
  });

  it("pfix=fsck checks the save file at every boot; pfix=fsckp the partitions too", async () => {
    const dir = scratch("fsck-pfix");
    const save = makeSaveFile(join(dir, "tinysave.4fs"), { "upper/root/x": "x\n" });
    const { vm } = await boot(
      testBuild(),
      [{ file: bootDisk({ build: testBuild(), dir, extra: { "tinysave.4fs": save } }), bus: "virtio" }],
      "pfix=fsck,fsckp",
    );
    vms.push(vm);
    assert.match(vm.console, /Checking vda1 \(pfix=fsckp\)[\s\S]*?e2fsck: clean \(exit 0\)/);
    assert.match(vm.console, /Checking vda1:\/tinysave\.4fs \(pfix=fsck\)[\s\S]*?e2fsck: clean \(exit 0\)/);
    assert.match(await vm.check("cat /initrd/tmp/bootinit.log"), /e2fsck -p \/mnt\/vda1\/tinysave\.4fs/);
    await vm.kill();
  });
});
