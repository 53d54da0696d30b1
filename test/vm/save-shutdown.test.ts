// VM tier: the shutdown path of the tiny profile. poweroff runs
// 'ramstack save --shutdown': in flash mode it saves (here without asking, as
// /etc/eventmanager allows); without a save it offers the first one on the
// console, and the answer makes a save folder the next boot uses.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Vm } from "../../src/vm/qemu.js";
import { boot, bootDisk, guestVars, makeSaveFile, scratch, testBuild, waitExit } from "../helpers/system.js";

describe("saving at shutdown", { timeout: 900000 }, () => {
  const vms: Vm[] = [];
  after(async () => Promise.all(vms.map((vm) => vm.kill())));

  it("PUPMODE 13 with ASKTOSAVE=false: poweroff merges the session, the next boot has it", async () => {
    const dir = scratch("shutdown-13");
    const save = makeSaveFile(join(dir, "tinysave.4fs"), { "upper/root/.keep": "" });
    const disk = bootDisk({ build: testBuild(), dir, extra: { "tinysave.4fs": save } });
    let { vm } = await boot(testBuild(), [{ file: disk, bus: "usb" }]);
    vms.push(vm);
    await vm.check("sed -i 's/^ASKTOSAVE=.*/ASKTOSAVE=false/' /etc/eventmanager; echo at-shutdown > /root/late.txt");
    vm.send("poweroff\n");
    await vm.waitFor(/ramstack save: Saved generation 1/, 120000);
    await waitExit(vm, 60000);

    ({ vm } = await boot(testBuild(), [{ file: disk, bus: "usb" }]));
    vms.push(vm);
    assert.equal(await vm.check("cat /root/late.txt"), "at-shutdown");
    assert.match(await vm.check("cat /etc/eventmanager"), /^ASKTOSAVE=false$/m);
    await vm.kill();
  });

  it("PUPMODE 5: poweroff asks; answering 'folder' makes the first save, used at the next boot (PUPMODE 12)", async () => {
    const dir = scratch("shutdown-5");
    const disk = bootDisk({ build: testBuild(), dir });
    let { vm } = await boot(testBuild(), [{ file: disk, bus: "virtio" }]);
    vms.push(vm);
    await vm.check("echo first-session > /root/first.txt; rm /bin/vi");
    vm.send("poweroff\n");
    const from = vm.console.length;
    await vm.waitFor(/Save it in a \[f\]older/, 120000, from);
    vm.send("f\n");
    await vm.waitFor(/A name for the save/, 60000, from);
    vm.send("\n");
    await vm.waitFor(/Saved the session in .*tinysave; the next boot uses it \(PUPMODE 12\)/, 120000, from);
    await waitExit(vm, 60000);

    ({ vm } = await boot(testBuild(), [{ file: disk, bus: "virtio" }]));
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "12");
    assert.equal(s.PUPSAVE, "vda1,ext4,/tinysave");
    assert.equal(await vm.check("cat /root/first.txt"), "first-session");
    assert.equal(
      await vm.check("test -e /bin/vi && echo there || echo gone"),
      "gone",
      "the first save keeps the session's whiteouts",
    );
    assert.match(await vm.check("ramstack save --list"), /^\*\s+1\s+\/initrd\/mnt\/dev_save\/tinysave\/\.gen\/0001$/m);
    assert.match(await vm.check("ramstack save"), /Nothing to save: PUPMODE 12/);
    await vm.kill();
  });

  it("PUPMODE 5: no answer in time means no save", async () => {
    const dir = scratch("shutdown-timeout");
    const disk = bootDisk({ build: testBuild(), dir });
    const { vm } = await boot(testBuild(), [{ file: disk, bus: "virtio" }]);
    vms.push(vm);
    await vm.check("sed -i 's/^SAVE_TIMEOUT=.*/SAVE_TIMEOUT=2/' /etc/eventmanager");
    const from = vm.console.length;
    vm.send("poweroff\n");
    await vm.waitFor(/No answer: the session is not saved/, 120000, from);
    await waitExit(vm, 60000);
  });
});
