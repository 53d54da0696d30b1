// VM tier: a save on a USB stick (PUPMODE 13): the session is in RAM on top
// and the save sits below it, read-only until a save merges the RAM layer
// down. Also the boot switches that leave a save alone (pfix=ram), the
// initrd shell (pfix=rdsh), and a boot without the main SFS.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Vm } from "../../src/vm/qemu.js";
import { Vm as VmClass } from "../../src/vm/qemu.js";
import {
  boot,
  bootDisk,
  kernelVm,
  guestMounts,
  guestVars,
  lowerDirs,
  makeSaveFile,
  makeTree,
  scratch,
  testBuild,
} from "../helpers/system.js";

describe("a save on a USB stick, and switches that leave it alone", { timeout: 900000 }, () => {
  const vms: Vm[] = [];
  after(async () => Promise.all(vms.map((vm) => vm.kill())));

  it("PUPMODE 13: the RAM layer on top, the save file below at /pup_ro1; writes stay in RAM", async () => {
    const dir = scratch("flash");
    const save = makeSaveFile(join(dir, "tinysave.4fs"), { "upper/root/saved.txt": "from the save\n" });
    const { vm } = await boot(testBuild(), [
      { file: bootDisk({ build: testBuild(), dir, extra: { "tinysave.4fs": save } }), bus: "usb" },
    ]);
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "13");
    assert.equal(s.SAVE_LAYER, "/pup_ro1");
    const root = (await guestMounts(vm)).get("/")!;
    assert.match(root.options, /upperdir=\/mnt\/tmpfs\/pup_rw/);
    // As Puppy names them: the union's first lower layer is /pup_ro1, the save's layer itself.
    assert.deepEqual(lowerDirs(root.options), ["/pup_ro1", "/pup_ro2", "/pup_z"]);
    assert.equal(await vm.check("readlink /initrd/pup_ro1"), "/initrd/pup_loop/upper");
    assert.match(await vm.check("ls -1 /initrd/pup_ro1"), /^root$/m, "the layer's own files, not upper/ and work/");
    assert.equal(await vm.check("readlink /initrd/pup_rw"), "/initrd/mnt/tmpfs/pup_rw");
    assert.equal(await vm.check("cat /root/saved.txt"), "from the save");
    await vm.check("echo session > /root/new.txt");
    assert.equal(await vm.check("cat /initrd/pup_rw/root/new.txt"), "session");
    assert.equal(await vm.check("test -e /initrd/pup_ro1/root/new.txt && echo saved || echo not-yet"), "not-yet");
    await vm.kill();
  });

  it("pmedia=usbflash: only USB drives are searched, though a fixed disk with a save comes first", async () => {
    const dir = scratch("pmedia-usb");
    const fixed = bootDisk({
      build: testBuild(),
      dir,
      extra: { tinysave: makeTree(join(dir, "ata"), { "upper/root/where.txt": "fixed disk\n", "work/": "" }) },
    });
    const stick = bootDisk({
      build: testBuild(),
      dir,
      extra: { tinysave: makeTree(join(dir, "usb"), { "upper/root/where.txt": "usb stick\n", "work/": "" }) },
    });
    const { vm } = await boot(
      testBuild(),
      [
        { file: fixed, bus: "ata" },
        { file: stick, bus: "usb" },
      ],
      "pmedia=usbflash",
    );
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PMEDIA, "usbflash");
    assert.equal(s.PUPMODE, "13", "pmedia=usbflash means flash mode");
    assert.equal(await vm.check("cat /root/where.txt"), "usb stick");
    assert.match(await vm.check("readlink /initrd/pup_ro1"), /^\/initrd\/mnt\/dev_save\/tinysave\/upper$/);
    assert.equal(
      await vm.check("cat /initrd/pup_ro1/root/where.txt"),
      "usb stick",
      "snapmergepuppy.overlay's BASE is the layer",
    );
    const dev = s.PUPSFS!.split(",")[0]!.replace(/\d+$/, "");
    assert.match(await vm.check(`readlink -f /sys/block/${dev}`), /\/usb\d/, "the main SFS came from the USB drive");
    assert.match(await vm.check("cat /initrd/tmp/bootinit.log"), /pmedia=usbflash: only USB drives are searched/);
    await vm.kill();
  });

  it("ramstack save merges the session into the save as a new generation, there after a reboot", async () => {
    const dir = scratch("flash-save");
    const save = makeSaveFile(join(dir, "tinysave.4fs"), {
      "upper/root/saved.txt": "from the save\n",
      "upper/root/doomed.txt": "x\n",
    });
    const disk = bootDisk({ build: testBuild(), dir, extra: { "tinysave.4fs": save } });
    let { vm } = await boot(testBuild(), [{ file: disk, bus: "usb" }]);
    vms.push(vm);
    await vm.check(
      "echo session > /root/new.txt; rm /root/doomed.txt; rm /bin/vi; mkdir -p /etc/x && setfattr -n user.k -v v /etc/x 2>/dev/null; true",
    );
    // Periodic saves every 3 s from the next boot on (RAMSAVEINTERVAL is in minutes).
    await vm.check("sed -i 's/^RAMSAVEINTERVAL=.*/RAMSAVEINTERVAL=0.05/' /etc/eventmanager");
    const out = await vm.check("ramstack save --json", 120000);
    const r = JSON.parse(out.slice(out.indexOf("{"))) as {
      saved: boolean;
      generation: number;
      stats: { files: number; whiteouts: number };
    };
    assert.equal(r.saved, true);
    assert.equal(r.generation, 1);
    assert.ok(r.stats.files >= 1);
    assert.ok(r.stats.whiteouts >= 1, "deleting /bin/vi of the main SFS needs a whiteout in the save");
    assert.match(await vm.check("ramstack save --list"), /^\*\s+1\s/m);
    await vm.check("sync");
    await vm.kill();

    ({ vm } = await boot(testBuild(), [{ file: disk, bus: "usb" }]));
    vms.push(vm);
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "13");
    assert.equal(await vm.check("cat /root/new.txt"), "session");
    assert.equal(await vm.check("cat /root/saved.txt"), "from the save");
    assert.equal(await vm.check("test -e /root/doomed.txt && echo there || echo gone"), "gone");
    assert.equal(await vm.check("test -e /bin/vi && echo there || echo gone"), "gone");
    assert.deepEqual(lowerDirs((await guestMounts(vm)).get("/")!.options)[0], "/pup_ro1");
    assert.match(await vm.check("cat /initrd/tmp/bootinit.log"), /generation 1/);
    assert.equal(
      await vm.check("cat /initrd/tmp/save-layer"),
      ".gen/0001",
      "the generation the union stacks, which no prune removes",
    );
    // rc.sysinit started the periodic saver: a change is saved without asking.
    await vm.check("echo periodic > /root/periodic.txt");
    let saved = "";
    for (let i = 0; i < 60 && saved !== "periodic"; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      saved = await vm.check("cat /initrd/pup_ro1/root/periodic.txt 2>/dev/null; true");
    }
    const log = await vm.check("cat /var/log/ramstack-save.log; ps");
    assert.match(log, /saved generation [2-9]/, log);
    assert.equal(await vm.check("cat /initrd/pup_ro1/root/periodic.txt"), "periodic");
    await vm.kill();
  });

  it("pfix=ram: PUPMODE 5 with a save present, and the save is not mounted", async () => {
    const dir = scratch("pfix-ram");
    const save = makeTree(join(dir, "save"), { "upper/root/saved.txt": "x\n" });
    const { vm } = await boot(
      testBuild(),
      [{ file: bootDisk({ build: testBuild(), dir, extra: { tinysave: save } }), bus: "virtio" }],
      "pfix=ram",
    );
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "5");
    assert.equal(s.PUPSAVE, "");
    assert.equal(await vm.check("test -e /root/saved.txt && echo seen || echo unseen"), "unseen");
    assert.doesNotMatch(await vm.check("cat /proc/mounts"), /dev_save|pup_ro1/);
    await vm.kill();
  });

  it("pfix=rdsh: a shell in the initrd with the stack ready; 'exit' goes on with the boot", async () => {
    const build = testBuild();
    const vm = VmClass.start(
      kernelVm(build, [{ file: bootDisk({ build, dir: scratch("rdsh") }), bus: "virtio" }], "pfix=rdsh"),
    );
    vms.push(vm);
    await vm.waitFor(/pfix=rdsh: a shell before switch_root/, 240000);
    await vm.shellReady(60000);
    assert.equal(await vm.check("grep -c ' /pup_new ' /proc/mounts"), "1", "the layered root is mounted");
    assert.equal(await vm.check("cat /pup_new/etc/rc.d/PUPSTATE | grep PUPMODE"), "PUPMODE='5'");
    vm.send("exit\n");
    await vm.waitFor(/ramstack: system up/, 120000);
    await vm.kill();
  });

  it("without the main SFS the boot stops in a shell that says what is missing", async () => {
    const build = testBuild();
    const disk = bootDisk({ build, dir: scratch("no-puppy"), exclude: ["puppy_tiny_0.1.0.sfs"] });
    const { vm, reached } = await boot(build, [{ file: disk, bus: "virtio" }], "", { stopAllowed: true });
    vms.push(vm);
    assert.equal(reached, "initrd-shell");
    assert.match(vm.console, /puppy_tiny_0\.1\.0\.sfs/);
    assert.match(vm.console, /The boot cannot go on/);
    // The shell is the initrd's: no layered root.
    assert.equal(await vm.check("test -e /pup_new/etc/rc.d/PUPSTATE && echo yes || echo no"), "no");
    await vm.kill();
  });
});
