// The init's view of a real machine: sysfs, /proc parsers, QEMU arguments.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  aliasBuses,
  deviceAliases,
  kernelFilesystems,
  moduleFilesystems,
  ramMiB,
  toMachineDisks,
} from "../../src/init/probe.js";
import { FS_MODULES } from "../../src/init/system.js";
import { onlineCpus } from "../../src/init/initrd-setup.js";
import type { Port } from "../../src/port/port.js";
import { listBlockDisks, transportOf } from "../../src/sys/blockdevs.js";
import { qemuArgs } from "../../src/vm/qemu.js";

describe("transport of a disk", () => {
  const cases: [string, string, string][] = [
    ["nvme0n1", "/sys/devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n1", "nvme"],
    ["mmcblk0", "/sys/devices/pci0000:00/0000:00:05.0/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0", "mmc"],
    ["sr0", "/sys/devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0/block/sr0", "cd"],
    ["sda", "/sys/devices/pci0000:00/0000:00:03.0/usb2/2-1/2-1:1.0/host2/target2:0:0/2:0:0:0/block/sda", "usb"],
    ["sdb", "/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sdb", "ata"],
    ["vda", "/sys/devices/pci0000:00/0000:00:02.0/virtio0/block/vda", "virtio"],
    ["sdc", "/sys/devices/pci0000:00/0000:00:06.0/virtio1/host3/target3:0:0/3:0:0:0/block/sdc", "scsi"],
  ];
  for (const [name, path, want] of cases) it(`${name} on ${want}`, () => assert.equal(transportOf(name, path), want));
});

describe("block devices from sysfs", () => {
  it("lists disks with partitions, skips loop devices and empty drives, reads flags", () => {
    const root = mkdtempSync(join(tmpdir(), "ramstack-sysfs-"));
    const sys = join(root, "sys");
    const dev = join(root, "dev");
    mkdirSync(dev);
    const mkdisk = (name: string, where: string, size: string, removable: string, parts: string[]): void => {
      const real = join(sys, "devices", where, "block", name);
      mkdirSync(join(real, "queue"), { recursive: true });
      writeFileSync(join(real, "size"), size);
      writeFileSync(join(real, "removable"), removable);
      writeFileSync(join(real, "queue/rotational"), "0");
      for (const p of parts) {
        mkdirSync(join(real, p));
        writeFileSync(join(real, p, "partition"), "1");
        writeFileSync(join(real, p, "size"), "204800");
      }
      mkdirSync(join(sys, "block"), { recursive: true });
      symlinkSync(real, join(sys, "block", name));
    };
    mkdisk("sda", "pci0/usb1/1-1/host0", "409600", "1", ["sda1", "sda2"]);
    mkdisk("loop0", "virtual", "100", "0", []);
    mkdisk("sr0", "pci0/ata2/host1", "0", "1", []);
    const disks = listBlockDisks({ sys, dev });
    assert.equal(disks.length, 1);
    assert.equal(disks[0]!.transport, "usb");
    assert.equal(disks[0]!.removable, true);
    assert.deepEqual(
      disks[0]!.partitions.map((p) => [p.name, p.sizeMiB, p.id]),
      [
        ["sda1", 100, null],
        ["sda2", 100, null],
      ],
    );
    const machine = toMachineDisks(disks);
    assert.deepEqual(machine[0]!.partitions[0], {
      name: "sda1",
      fstype: "",
      label: "",
      uuid: "",
      sizeMiB: 100,
      freeMiB: 0,
      files: {},
    });
  });

  it("collects every device's module alias once", () => {
    const sys = mkdtempSync(join(tmpdir(), "ramstack-bus-"));
    for (const [bus, d, alias] of [
      ["pci", "0000:00:02.0", "pci:v1AF4d1001"],
      ["virtio", "virtio0", "virtio:d00000002v00001AF4"],
      ["pci", "0000:00:03.0", "pci:v1AF4d1001"],
    ]) {
      mkdirSync(join(sys, "bus", bus!, "devices", d!), { recursive: true });
      writeFileSync(join(sys, "bus", bus!, "devices", d!, "modalias"), alias + "\n");
    }
    assert.deepEqual(deviceAliases(sys), ["pci:v1AF4d1001", "virtio:d00000002v00001AF4"]);
    // Only the buses asked for are read.
    assert.deepEqual(deviceAliases(sys, new Set(["virtio", "usb"])), ["virtio:d00000002v00001AF4"]);
  });

  it("reads the platform bus for device-tree aliases (of:) when the initrd has drivers for them", () => {
    const sys = mkdtempSync(join(tmpdir(), "ramstack-bus-"));
    // A Raspberry Pi 3's SD host, as the kernel shows it.
    const sd = join(sys, "bus", "platform", "devices", "3f300000.mmc");
    mkdirSync(sd, { recursive: true });
    writeFileSync(join(sd, "modalias"), "of:NmmcT(null)Cbrcm,bcm2835-sdhci\n");
    assert.deepEqual(deviceAliases(sys, new Set(["of", "usb"])), ["of:NmmcT(null)Cbrcm,bcm2835-sdhci"]);
    // A PC's initrd has no of: drivers: the platform bus is not read.
    assert.deepEqual(deviceAliases(sys, new Set(["pci", "usb"])), []);
  });

  it("takes MODALIAS from uevent where a bus has no modalias file (SD/MMC cards)", () => {
    const sys = mkdtempSync(join(tmpdir(), "ramstack-bus-"));
    const card = join(sys, "bus", "mmc", "devices", "mmc0:4567");
    mkdirSync(card, { recursive: true });
    writeFileSync(join(card, "uevent"), "DRIVER=mmcblk\nMMC_TYPE=SD\nMODALIAS=mmc:block\n");
    mkdirSync(join(sys, "bus", "mmc", "devices", "mmc1:0001"), { recursive: true });
    assert.deepEqual(deviceAliases(sys), ["mmc:block"]);
  });
});

describe("/proc parsers", () => {
  it("kernel filesystems, with Linux's names mapped to the planner's", () => {
    assert.deepEqual(
      kernelFilesystems("nodev\tsysfs\nnodev\ttmpfs\n\text4\n\tisofs\nnodev\toverlay\n\tntfs3\n\tfuseblk\n"),
      ["sysfs", "tmpfs", "ext4", "iso9660", "overlay", "ntfs"],
    );
  });
  it("RAM in MiB from meminfo", () => {
    assert.equal(ramMiB("MemTotal:        1004512 kB\nMemFree: 1 kB\n"), 980);
    assert.equal(ramMiB("nothing"), 0);
    assert.equal(
      ramMiB("MemTotal:        1004512 kB\nMemFree:          204800 kB\nMemAvailable:     307200 kB\n", "MemAvailable"),
      300,
    );
  });
});

describe("modules the initrd carries", () => {
  it("names the buses that have drivers, so coldplug skips the others", () => {
    const alias =
      "# Aliases extracted from modules themselves.\nalias pci:v00001AF4d00001001sv*sd*bc*sc*i* virtio_pci\nalias usb:v*p*d*dc*dsc*dp*ic08isc06ip50in* usb_storage\nalias virtio:d00000002v* virtio_blk\nalias mmc:block mmc_block\nalias cpu:type:x86,ven*fam*mod*:feature:*0099* aesni_intel\n";
    assert.deepEqual(
      [...aliasBuses(alias)].sort(),
      ["mmc", "pci", "usb", "virtio"],
      "CPU feature modules are left to the running system",
    );
  });
  it("counts a filesystem as mountable when its module is in the initrd", () => {
    const dep =
      "kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko kernel/fs/mbcache.ko\nkernel/fs/jbd2/jbd2.ko:\nkernel/fs/isofs/isofs.ko:\nkernel/fs/overlayfs/overlay.ko:\n";
    assert.deepEqual(moduleFilesystems(dep, FS_MODULES).sort(), ["ext2", "ext3", "ext4", "iso9660", "overlay"]);
  });
});

describe("QEMU arguments", () => {
  const base = { kernel: "k", initrd: "i", append: "console=ttyS0" };
  it("uses TCG and no default devices", () => {
    const a = qemuArgs({ ...base, disks: [] }).join(" ");
    assert.match(a, /-accel tcg -cpu max/);
    assert.match(a, /-nodefaults/);
  });
  it("attaches each bus with its controller once", () => {
    const a = qemuArgs({
      ...base,
      disks: [
        { file: "a", bus: "usb" },
        { file: "b", bus: "usb" },
        { file: "c", bus: "nvme" },
        { file: "d", bus: "ata" },
        { file: "e", bus: "cd" },
        { file: "f", bus: "sd" },
      ],
    }).join(" ");
    assert.equal(a.match(/qemu-xhci/g)?.length, 1);
    assert.equal(a.match(/-device ahci/g)?.length, 1);
    assert.match(
      a,
      /usb-storage,bus=xhci\.0,drive=disk0,id=dev0,removable=on/,
      "each disk's device has an id to unplug it by",
    );
    assert.match(a, /nvme,serial=ramstack2,drive=disk2/);
    assert.match(a, /ide-cd,drive=disk4/);
    assert.match(a, /file=e,format=raw,if=none,id=disk4,read-only=on,media=cdrom/);
    assert.match(a, /sdhci-pci.*sd-card,drive=disk5/);
  });
  it("boots a disk through the firmware when no kernel is given, OVMF for UEFI", () => {
    const a = qemuArgs({
      firmware: "uefi",
      disks: [
        { file: "img", bus: "usb" },
        { file: "x", bus: "virtio" },
      ],
    }).join(" ");
    assert.doesNotMatch(a, /-kernel/);
    assert.match(a, /-bios \/usr\/share\/ovmf\/OVMF\.fd/);
    assert.match(a, /usb-storage,bus=xhci\.0,drive=disk0,id=dev0,removable=on,bootindex=0/);
    assert.doesNotMatch(a, /drive=disk1,bootindex/);
    assert.doesNotMatch(qemuArgs({ ...base, disks: [{ file: "a", bus: "virtio" }] }).join(" "), /bootindex/);
  });
  it("gives a screen only when asked, seen through VNC on loopback only, and another CPU model when told", () => {
    const plain = qemuArgs({ ...base, disks: [] }).join(" ");
    assert.doesNotMatch(plain, /virtio-vga|-vnc/);
    assert.doesNotMatch(qemuArgs({ ...base, disks: [], vnc: 1 }).join(" "), /-vnc/, "no VNC without a screen");
    const a = qemuArgs({ ...base, disks: [], display: true, vnc: 3, cpu: "Nehalem" }).join(" ");
    assert.match(a, /-cpu Nehalem /);
    assert.match(a, /-device virtio-vga/);
    assert.match(a, /-vnc 127\.0\.0\.1:3/);
  });
  it("emulates arm64 on the virt board: a Cortex-A53 under TCG, PCI disks, the PL011 console", () => {
    const a = qemuArgs({ ...base, board: "virt", disks: [{ file: "a", bus: "virtio" }] }).join(" ");
    assert.match(a, /^-M virt -accel tcg -cpu cortex-a53 -m 1024 -smp 1 /);
    assert.match(a, /-serial stdio/);
    assert.match(a, /virtio-blk-pci,drive=disk0/);
    assert.throws(() => qemuArgs({ ...base, board: "virt", disks: [], firmware: "uefi" }), /not a firmware/);
    assert.throws(() => qemuArgs({ ...base, board: "virt", disks: [], display: true }), /pc board only/);
  });
  it("emulates a Raspberry Pi 3 B: its own CPUs, RAM, SD slot and USB, the console on the second serial port", () => {
    const a = qemuArgs({
      ...base,
      board: "rpi3",
      dtb: "bcm2837-rpi-3-b.dtb",
      disks: [
        { file: "card", bus: "sd" },
        { file: "stick", bus: "usb" },
      ],
    }).join(" ");
    assert.match(a, /^-M raspi3b -accel tcg -m 1024 -smp 4 /);
    assert.doesNotMatch(a, /-cpu/);
    assert.match(a, /-serial null -serial stdio/);
    assert.match(a, /-dtb bcm2837-rpi-3-b\.dtb/);
    assert.match(a, /-drive file=card,format=raw,if=sd /);
    assert.match(a, /-device usb-storage,drive=disk1,id=dev1,removable=on/);
    assert.doesNotMatch(a, /xhci|sdhci-pci/);
    assert.throws(() => qemuArgs({ ...base, board: "rpi3", disks: [{ file: "a", bus: "virtio" }] }), /no virtio disks/);
    assert.throws(() => qemuArgs({ ...base, board: "rpi3", memMiB: 512, disks: [] }), /1024 MiB/);
  });
});

describe("the CPUs the head start counts", () => {
  const cpus = (text: string | undefined): number => onlineCpus({ readText: () => text } as unknown as Port);
  it("reads /sys's ranges and lists, and takes one CPU when it cannot tell", () => {
    assert.equal(cpus("0\n"), 1);
    assert.equal(cpus("0-3\n"), 4);
    assert.equal(cpus("0-3,5,7-8\n"), 7);
    assert.equal(cpus(undefined), 1);
    assert.equal(cpus("garbage"), 1);
  });
});
