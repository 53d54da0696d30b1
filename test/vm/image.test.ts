// VM tier: disk images from `ramstack image` booted by real firmware (SeaBIOS
// and OVMF) through GRUB, on the layouts users make: MBR + ext4, GPT + FAT on
// a USB stick with a psubdir, exFAT.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { writeImage } from "../../src/build/image.js";
import type { ImageOptions } from "../../src/build/image.js";
import type { Vm } from "../../src/vm/qemu.js";
import { bootImage, guestVars, scratch, testBuild } from "../helpers/system.js";

function image(name: string, o: Partial<ImageOptions>): string {
  const out = join(scratch(`image-${name}`), `${name}.img`);
  writeImage({
    build: testBuild(),
    out,
    table: "mbr",
    fs: "ext4",
    label: "RAMSTACK",
    psubdir: "",
    firmware: ["bios", "uefi"],
    console: "serial",
    cmdline: "",
    menuTimeout: 0,
    extra: [],
    ...o,
  });
  return out;
}

describe("images boot through GRUB", { timeout: 900000 }, () => {
  const vms: Vm[] = [];
  after(async () => Promise.all(vms.map((vm) => vm.kill())));

  it("MBR + ext4 on BIOS (SeaBIOS): the menu's default entry boots the frugal files", async () => {
    const { vm } = await bootImage(image("mbr-ext4", {}), "bios");
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "5");
    // Partition 1 is the ESP (the image boots on UEFI too), 2 the frugal files.
    assert.equal(s.PUPSFS, "vda2,ext4,/puppy_tiny_0.1.0.sfs");
    assert.match(await vm.check("cat /proc/cmdline"), /^BOOT_IMAGE=\/vmlinuz console=tty0 console=ttyS0,115200$/);
    assert.equal(await vm.check("test -d /sys/firmware/efi && echo uefi || echo bios"), "bios");
    await vm.kill();
  });

  it("GPT + FAT on a USB stick with psubdir and extra parameters, on UEFI (OVMF)", async () => {
    const img = image("gpt-vfat", {
      table: "gpt",
      fs: "vfat",
      label: "MYSTICK",
      psubdir: "boot/tiny",
      cmdline: "pfix=nocopy",
      extra: [{ fstype: "ext4", label: "SAVES", sizeMiB: 32 }],
    });
    const { vm } = await bootImage(img, "uefi", "usb");
    vms.push(vm);
    assert.equal(await vm.check("test -d /sys/firmware/efi && echo uefi || echo bios"), "uefi");
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    // Partitions: 1 BIOS boot, 2 ESP, 3 boot files, 4 SAVES.
    assert.equal(s.PUPSFS, "sda3,vfat,/boot/tiny/puppy_tiny_0.1.0.sfs");
    assert.equal(s.PSUBDIR, "/boot/tiny");
    assert.match(await vm.check("cat /proc/cmdline"), /psubdir=\/boot\/tiny .*pfix=nocopy/);
    assert.equal(await vm.check("cat /sys/class/block/sda4/size"), String(32 * 2048));
    await vm.kill();
  });

  it("MBR + exFAT on BIOS", async () => {
    const { vm } = await bootImage(image("exfat", { fs: "exfat", firmware: ["bios"] }), "bios");
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPSFS, "vda1,exfat,/puppy_tiny_0.1.0.sfs");
    await vm.kill();
  });
});
