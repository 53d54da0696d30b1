// `ramstack image`: write a bootable disk image from a build.

import { resolve } from "node:path";
import type { PartFs, PartitionSpec } from "../build/disk.js";
import { PART_FILESYSTEMS } from "../build/disk.js";
import type { ConsoleKind, Firmware, ImageManifest } from "../build/image.js";
import type { PiBoard } from "../build/pi-image.js";
import { PI_BOARDS, PI_BOARDS_LIST, writePiImage } from "../build/pi-image.js";
import { writeImage } from "../build/image.js";
import { portProgress } from "./progress.js";
import { defaultPort } from "../port/default.js";
import type { OptionDef } from "./args.js";
import { oneOf, optionsHelp, parseArgs, UsageError, wholeNumber, optionValue } from "./args.js";

const OPTIONS: OptionDef[] = [
  { name: "out", value: "FILE", help: "the image file (default: BUILD_DIR/ramstack.img)" },
  { name: "table", value: "T", help: "partition table: mbr or gpt", default: "mbr" },
  { name: "fs", value: "FS", help: `the boot partition's filesystem: ${PART_FILESYSTEMS.join(", ")}`, default: "ext4" },
  { name: "label", value: "LABEL", help: "the boot partition's label", default: "RAMSTACK" },
  { name: "psubdir", value: "DIR", help: "put the frugal files in this directory of the boot partition" },
  { name: "size", value: "MiB", help: "the boot partition's size (default: the files plus 64 MiB, room for a save)" },
  { name: "partition", value: "FS:LABEL:MiB", repeat: true, help: "add an empty partition, e.g. ext4:SAVES:512" },
  { name: "firmware", value: "LIST", help: "bios, uefi or bios,uefi", default: "bios,uefi" },
  { name: "console", value: "C", help: "vga or serial (serial: the kernel and GRUB also use ttyS0)", default: "vga" },
  { name: "cmdline", value: "TEXT", help: "boot parameters added to every menu entry" },
  { name: "menu-timeout", value: "SEC", help: "seconds GRUB's menu waits", default: "5" },
  {
    name: "board",
    value: "B",
    help: `an SD card image for a Raspberry Pi (an arm64 build): ${PI_BOARDS_LIST.map((b) => `${b} (${PI_BOARDS[b].purpose})`).join(", ")}`,
  },
  { name: "json", help: "print the image's layout as JSON" },
  { name: "help", help: "show this help" },
];

export const IMAGE_HELP = `Usage: ramstack image BUILD_DIR [--out FILE] [--table mbr|gpt] [--fs ext4|vfat|exfat] [--psubdir DIR]
       ramstack image ARM64_BUILD_DIR --board rpi3|rpi4|rpi-zero2|cm4 [--out FILE] [--console serial]

Writes a disk image that boots a build on BIOS and UEFI machines, to copy to
a USB stick or disk (dd) or to boot with 'ramstack run FILE'. The boot
partition holds the frugal files (vmlinuz, initrd.gz, the SFS layers) in
PSUBDIR and GRUB's menu in /boot/grub/grub.cfg, with entries for a normal
boot, copy to RAM, RAM only and the initrd's rescue shell. GRUB comes from
Debian's packages. Filling an exFAT partition needs root.
The layout is written next to the image, in FILE.json.

With --board, an arm64 build becomes an SD card image for a Raspberry Pi: an
MBR with a FAT partition holding the Pi's firmware (Debian's raspi-firmware),
config.txt, cmdline.txt (the boot parameters: --console, --cmdline), the
kernel, the device trees and the frugal files, and an ext4 partition for
saves (SAVEMARK names it). At the first boot the save partition grows to
fill the card. Write it with: dd if=FILE of=/dev/mmcblk0 bs=4M conv=fsync

${optionsHelp(OPTIONS)}`;

function extraPartition(text: string): PartitionSpec {
  const m = /^([a-z0-9]+):([^:]*):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--partition '${text}' is not FS:LABEL:MiB`);
  return {
    fstype: oneOf(m[1]!, PART_FILESYSTEMS, "--partition filesystem"),
    ...(m[2] ? { label: m[2] } : {}),
    sizeMiB: wholeNumber(m[3]!, "--partition size", 1),
  };
}

export async function runImage(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, OPTIONS);
  if (a.flags.has("help")) {
    out(IMAGE_HELP);
    return 0;
  }
  const [dir, ...more] = a.positional;
  if (dir === undefined) throw new UsageError("name a build directory (made by 'ramstack build')");
  if (more.length) throw new UsageError(`unexpected argument '${more[0]}'`);
  const opt = (n: string): string | undefined => optionValue(a, OPTIONS, n);
  const log = (l: string): void => void process.stderr.write(`image: ${l}\n`);
  const showing = a.flags.has("json") ? null : portProgress(defaultPort());
  const board = opt("board");
  if (board !== undefined) {
    for (const n of ["table", "fs", "label", "psubdir", "size", "partition", "firmware", "menu-timeout"])
      if (a.options.has(n) || a.flags.has(n))
        throw new UsageError(`--${n} is for PC images; a Raspberry Pi's card has a fixed layout`);
    const r = writePiImage(
      {
        build: resolve(dir),
        out: resolve(opt("out") ?? `${dir}/ramstack-${board}.img`),
        board: oneOf<PiBoard>(board, PI_BOARDS_LIST, "--board"),
        console: oneOf<ConsoleKind>(opt("console")!, ["vga", "serial"], "--console"),
        cmdline: opt("cmdline") ?? "",
      },
      log,
      showing,
    );
    if (a.flags.has("json")) out(JSON.stringify(r, null, 2));
    else report(r, `an SD card for the ${board} board`, out);
    return 0;
  }
  const firmware = opt("firmware")!
    .split(",")
    .map((f) => oneOf<Firmware>(f, ["bios", "uefi"], "--firmware"));
  const size = opt("size");
  const timeout = opt("menu-timeout");
  const r = writeImage(
    {
      build: resolve(dir),
      out: resolve(opt("out") ?? `${dir}/ramstack.img`),
      table: oneOf(opt("table")!, ["mbr", "gpt"] as const, "--table"),
      fs: oneOf<PartFs>(opt("fs")!, PART_FILESYSTEMS, "--fs"),
      label: opt("label")!,
      psubdir: opt("psubdir") ?? "",
      firmware: [...new Set(firmware)],
      console: oneOf<ConsoleKind>(opt("console")!, ["vga", "serial"], "--console"),
      cmdline: opt("cmdline") ?? "",
      menuTimeout: timeout === undefined ? 5 : timeout === "0" ? 0 : wholeNumber(timeout, "--menu-timeout", 1),
      ...(size ? { sizeMiB: wholeNumber(size, "--size", 1) } : {}),
      extra: (a.options.get("partition") ?? []).map(extraPartition),
    },
    log,
    showing,
  );
  if (a.flags.has("json")) out(JSON.stringify(r, null, 2));
  else report(r, `boots on ${r.firmware.map((f) => f.toUpperCase()).join(" and ")}`, out);
  return 0;
}

function report(r: ImageManifest, what: string, out: (s: string) => void): void {
  out(`Wrote ${r.image} (${(r.bytes / 1048576).toFixed(0)} MiB, ${r.table.toUpperCase()}, ${what}):`);
  for (const p of r.partitions)
    out(
      `  ${String(p.number).padStart(2)}  ${p.role.padEnd(9)} ${p.fstype.padEnd(5)} ${(p.label ?? "").padEnd(16)} ${String(p.sizeMiB).padStart(6)} MiB`,
    );
}
