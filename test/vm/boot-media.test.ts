// VM tier: the frugal files elsewhere than on a disk's partition. Inside an
// ISO 9660 image: booted from an ISO file on a disk (isofrom=), the init
// loop-mounts it and stacks its SFS; burnt to a CD (here: QEMU's AHCI CD
// drive) the init finds the main SFS on sr0 and copies its multisession
// folders to RAM (PUPMODE 77). Inside the initrd (humongous):
// the system boots with no disk at all. Copied to RAM (pfix=copy): the USB
// stick they came from can be pulled out while the system runs.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { linkSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Vm } from "../../src/vm/qemu.js";
import { humongousInitrd } from "../../src/build/cpio.js";
import { Vm as VmClass } from "../../src/vm/qemu.js";
import {
  boot,
  bootDisk,
  guestMounts,
  guestVars,
  kernelVm,
  lowerDirs,
  makeTree,
  scratch,
  testBuild,
} from "../helpers/system.js";

const SFS = "puppy_tiny_0.1.0.sfs";

describe("booting from an ISO image, a CD, or the initrd alone", { timeout: 600000 }, () => {
  const vms: Vm[] = [];
  let iso = "";
  let dir = "";
  before(() => {
    dir = scratch("iso");
    const stage = join(dir, "stage");
    mkdirSync(stage);
    linkSync(join(testBuild(), SFS), join(stage, SFS));
    // Two sessions saved to the disc (PUPMODE 77): the newer one deletes a file of the older and one of the main SFS.
    makeTree(stage, {
      "2026-01-01-10-00/root/a.txt": "older session\n",
      "2026-01-01-10-00/root/c.txt": "kept from the older session\n",
      "2026-01-01-10-00/root/.wh.e.txt": "",
      "2026-02-01-10-00/root/e.txt": "deleted in the older session, made again in the newer\n",
      "2026-02-01-10-00/root/b.txt": "newer session\n",
      "2026-02-01-10-00/root/.wh.a.txt": "",
      "2026-02-01-10-00/bin/.wh.vi": "",
    });
    iso = join(dir, "ramstack.iso");
    const r = spawnSync("xorriso", ["-as", "mkisofs", "-quiet", "-r", "-V", "RAMSTACK", "-o", iso, stage], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
  });
  after(async () => Promise.all(vms.map((vm) => vm.kill())));

  it("isofrom=: the ISO on a disk is loop-mounted and its SFS stacked", async () => {
    const disk = bootDisk({
      build: testBuild(),
      dir,
      exclude: [SFS, "zdrv_tiny_0.1.0.sfs"],
      extra: { "isos/ramstack.iso": iso },
    });
    const { vm } = await boot(
      testBuild(),
      [{ file: disk, bus: "virtio" }],
      "isofrom=/isos/ramstack.iso pfix=nocopy,nox",
    );
    vms.push(vm);
    const mounts = await guestMounts(vm);
    assert.equal(mounts.get("/initrd/mnt/iso")?.fstype, "iso9660");
    assert.deepEqual(lowerDirs(mounts.get("/")!.options), ["/pup_ro2"]);
    assert.match(await vm.check("cat /initrd/tmp/bootinit.log"), /booting from the ISO vda1:\/isos\/ramstack\.iso/);
    assert.equal(await vm.check("test -x /bin/busybox && echo from-the-iso"), "from-the-iso");
    assert.equal(
      await vm.check("test -e /tmp/bootcnt.txt && echo no-x"),
      "no-x",
      "pfix=nox leaves Puppy's flag that keeps X from starting",
    );
    await vm.kill();
  });

  it("a CD: the main SFS is found on sr0, and its session folders are copied to RAM (PUPMODE 77); pkeys and plang", async () => {
    let { vm }: { vm: Vm } = await boot(testBuild(), [{ file: iso, bus: "cd" }]);
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPSFS, `sr0,iso9660,/${SFS}`);
    assert.equal(s.PUPMODE, "77");
    assert.deepEqual(lowerDirs((await guestMounts(vm)).get("/")!.options), ["/pup_ro1", "/pup_ro2"]);
    assert.equal(await vm.check("cat /root/b.txt /root/c.txt"), "newer session\nkept from the older session");
    assert.equal(
      await vm.check("test -e /root/a.txt && echo there || echo gone"),
      "gone",
      "the newer session's whiteout",
    );
    assert.equal(await vm.check("cat /root/e.txt"), "deleted in the older session, made again in the newer");
    assert.equal(
      await vm.check("test -e /bin/vi && echo there || echo gone"),
      "gone",
      "a whiteout of a main SFS file stays one",
    );
    const usKeys = await vm.check("dumpkmap | md5sum");
    await vm.kill();

    // pfix=1: the newest session is left out. pkeys/plang: a Spanish keyboard and Spanish messages on the console.
    ({ vm } = await boot(testBuild(), [{ file: iso, bus: "cd" }], "pfix=1 pkeys=es plang=es_ES.UTF-8"));
    vms.push(vm);
    assert.match(vm.console, /Teclado: es/);
    assert.match(vm.console, /Cargando puppy_tiny_0\.1\.0\.sfs en \/pup_ro2/);
    assert.match(vm.console, /Pasando a la raíz por capas/);
    assert.match(
      await vm.check("cat /initrd/tmp/bootinit.log"),
      /Loading puppy_tiny_0\.1\.0\.sfs at \/pup_ro2/,
      "the log stays in English",
    );
    assert.notEqual(await vm.check("dumpkmap | md5sum"), usKeys, "the console's keymap changed");
    assert.equal(await vm.check("cat /root/a.txt"), "older session");
    assert.equal(await vm.check("test -e /root/b.txt && echo there || echo gone"), "gone");
    assert.equal(await vm.check("test -e /bin/vi && echo there || echo gone"), "there");
    await vm.kill();
  });

  it("a humongous initrd: the main SFS inside the initrd, no disk", async () => {
    const initrd = join(dir, "initrd-humongous.gz");
    humongousInitrd(join(testBuild(), "initrd.gz"), [join(testBuild(), SFS)], initrd, 0);
    const vm = VmClass.start({ ...kernelVm(testBuild(), []), initrd });
    vms.push(vm);
    await vm.waitFor(/ramstack: system up/, 240000);
    await vm.shellReady(60000);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "5");
    assert.match(await vm.check("cat /initrd/tmp/bootinit.log"), /inside the initrd \(humongous initrd\)/);
    assert.deepEqual(lowerDirs((await guestMounts(vm)).get("/")!.options), ["/pup_ro2"]);
    await vm.kill();
  });

  it("pfix=copy: every layer in RAM, the stick's partition let go, and the stick pulled out while the system runs", async () => {
    const disk = bootDisk({ build: testBuild(), dir });
    const { vm } = await boot(testBuild(), [{ file: disk, bus: "usb" }], "pfix=copy");
    vms.push(vm);
    const log = await vm.check("cat /initrd/tmp/bootinit.log");
    assert.match(log, /copy: puppy: to RAM/);
    assert.match(log, /copy: zdrv: to RAM/);
    const mounts = await guestMounts(vm);
    const onStick = [...mounts].filter(([, m]) => m.source.startsWith("/dev/sd"));
    assert.deepEqual(onStick, [], "nothing on the stick stays mounted");
    const from = vm.console.length;
    await vm.unplug(0);
    await vm.waitFor(/USB disconnect/, 60000, from);
    assert.equal(await vm.check("test -e /sys/block/sda && echo there || echo gone"), "gone");
    // Every file of the main SFS and a module of the zdrv are read from RAM.
    await vm.check("find /initrd/pup_ro2 -type f -exec cat {} + > /dev/null", 120000);
    await vm.check("modprobe dummy && test -d /sys/module/dummy", 60000);
    assert.equal(await vm.check("echo still-writable > /root/after.txt && cat /root/after.txt"), "still-writable");
    await vm.kill();
  });
});
