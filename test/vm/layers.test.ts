// VM tier: which layer a file comes from. An adrv sits above the main SFS
// and overrides it; the frugal files found through psubdir and a label on a
// USB drive, with a decoy of the same files on another disk; the same choices
// stored in the initrd's BOOT_SPECS instead of the cmdline.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Vm, VmDisk } from "../../src/vm/qemu.js";
import {
  boot,
  bootDisk,
  guestMounts,
  guestVars,
  initrdWith,
  lowerDirs,
  makeSfs,
  scratch,
  testBuild,
} from "../helpers/system.js";

/**
 * The same frugal files in /boot/tiny twice: a virtio disk labelled DECOY,
 * first in search order, and a vfat USB stick labelled MYSTICK. Only the
 * label tells them apart.
 */
function decoyAndStick(build: string, dir: string): VmDisk[] {
  const decoy = bootDisk({ build, dir, psubdir: "boot/tiny", label: "DECOY" });
  const usb = bootDisk({ build, dir, psubdir: "boot/tiny", label: "MYSTICK", fstype: "vfat" });
  return [
    { file: decoy, bus: "virtio" },
    { file: usb, bus: "usb" },
  ];
}

describe("an adrv overrides the main SFS", { timeout: 600000 }, () => {
  let vm: Vm;
  before(async () => {
    const build = testBuild();
    const dir = scratch("adrv");
    const adrv = makeSfs(join(dir, "adrv.sfs"), { "etc/hostname": "from-adrv\n", "usr/share/adrv-only": "adrv\n" });
    const disk = bootDisk({ build, dir, extra: { "adrv_tiny_0.1.0.sfs": adrv } });
    vm = (await boot(build, [{ file: disk, bus: "virtio" }])).vm;
  });
  // Unset when before() failed.
  after(async () => (vm as Vm | undefined)?.kill());

  it("puts adrv directly under the RAM layer, above puppy and zdrv", async () => {
    const root = (await guestMounts(vm)).get("/");
    assert.deepEqual(lowerDirs(root!.options), ["/pup_a", "/pup_ro2", "/pup_z"]);
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).ADRV, "vda1,ext4,/adrv_tiny_0.1.0.sfs");
  });

  it("shows adrv's copy of a file that puppy also has", async () => {
    assert.equal(await vm.check("cat /initrd/pup_ro2/etc/hostname"), "ramstack");
    assert.equal(await vm.check("cat /initrd/pup_a/etc/hostname"), "from-adrv");
    assert.equal(await vm.check("cat /etc/hostname"), "from-adrv");
    assert.equal(await vm.check("cat /usr/share/adrv-only"), "adrv");
  });
});

describe("psubdir and a label find the frugal files on a USB drive", { timeout: 600000 }, () => {
  let vm: Vm;
  before(async () => {
    const build = testBuild();
    // waitdev is a bound, not a sleep: the init goes on as soon as the stick appears (a loaded host slows the guest).
    vm = (await boot(build, decoyAndStick(build, scratch("label")), "psubdir=/boot/tiny pupsfs=MYSTICK waitdev=60")).vm;
  });
  // Unset when before() failed.
  after(async () => (vm as Vm | undefined)?.kill());

  it("boots from the labelled partition, not the first one with the files", async () => {
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PDEV1, "sda1");
    assert.equal(s.DEV1FS, "vfat");
    assert.equal(s.PUPSFS, "sda1,vfat,/boot/tiny/puppy_tiny_0.1.0.sfs");
    assert.equal(s.ZDRV, "sda1,vfat,/boot/tiny/zdrv_tiny_0.1.0.sfs");
    assert.equal(s.PSUBDIR, "/boot/tiny");
  });

  it("loop-mounts the SFS from the USB drive and leaves the decoy unmounted", async () => {
    const mounts = await guestMounts(vm);
    assert.equal(mounts.get("/initrd/mnt/sda1")?.fstype, "vfat");
    assert.equal(mounts.has("/initrd/mnt/vda1"), false);
    assert.match(await vm.check("cat /initrd/tmp/bootinit.log"), /pupsfs=MYSTICK/);
  });

  it("waited for the USB stick only until it appeared, far less than waitdev", async () => {
    const plan = JSON.parse(await vm.check("cat /initrd/tmp/bootinit.json")) as {
      bootSeconds: number;
      plan: { waitdev: number };
    };
    assert.equal(plan.plan.waitdev, 60);
    assert.ok(plan.bootSeconds < 40, `the init took ${plan.bootSeconds} s`);
  });
});

describe("BOOT_SPECS in the initrd overrides the cmdline", { timeout: 600000 }, () => {
  let vm: Vm;
  before(async () => {
    const build = testBuild();
    const dir = scratch("boot-specs");
    // ifb is a module of the zdrv only: PIMOD loads it from the stack, as Puppy does.
    // The zdrv from the other disk: a layer's spec may name any partition.
    const initrd = initrdWith(build, dir, {
      BOOT_SPECS: "PSUBDIR='/boot/tiny'\nPUPSFS='MYSTICK'\nZDRV='DECOY:/boot/tiny/zdrv_tiny_0.1.0.sfs'\nPIMOD='ifb'\n",
    });
    vm = (await boot(build, decoyAndStick(build, dir), "psubdir=/elsewhere pupsfs=DECOY", { initrd })).vm;
  });
  // Unset when before() failed.
  after(async () => (vm as Vm | undefined)?.kill());

  it("takes PSUBDIR and PUPSFS from BOOT_SPECS over the cmdline's, and ZDRV from another disk", async () => {
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPSFS, "sda1,vfat,/boot/tiny/puppy_tiny_0.1.0.sfs");
    assert.equal(s.PSUBDIR, "/boot/tiny");
    assert.equal(s.ZDRV, "vda1,ext4,/boot/tiny/zdrv_tiny_0.1.0.sfs");
    const log = await vm.check("cat /initrd/tmp/bootinit.log");
    assert.match(log, /boot_specs: pupsfs=MYSTICK \(overrides the cmdline\)/);
    assert.match(log, /pimod: loaded from the layers: ifb/);
  });

  it("loads PIMOD's module from the zdrv, which the initrd does not carry", async () => {
    assert.equal(await vm.check("test -d /sys/module/ifb && echo loaded"), "loaded");
  });
});
