// GRUB from Debian's packages, installed into a disk image without mounting
// it or running grub-install: grub-mkimage makes the core images, and the
// BIOS boot sector is patched here the way grub-bios-setup would.

import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { run } from "../sys/exec.js";

const GRUB_LIB = "/usr/lib/grub";
const SECTOR = 512;

/** Modules built into the core images: everything grub.cfg uses, as no module directory is installed. */
const COMMON_MODULES = [
  "part_msdos",
  "part_gpt",
  "ext2",
  "fat",
  "exfat",
  "search",
  "search_fs_uuid",
  "search_label",
  "search_fs_file",
  "normal",
  "configfile",
  "linux",
  "echo",
  "test",
  "sleep",
  "serial",
  "terminal",
  "halt",
  "reboot",
  "ls",
  "cat",
];
const BIOS_MODULES = ["biosdisk", ...COMMON_MODULES];
const EFI_MODULES = ["efi_gop", "efi_uga", "video_fb", ...COMMON_MODULES];

/** The config built into the core: find the boot partition by UUID and read its grub.cfg. */
export function earlyConfig(searchUuid: string): string {
  return [
    `search --no-floppy --fs-uuid --set=root ${searchUuid}`,
    "set prefix=($root)/boot/grub",
    "configfile ($root)/boot/grub/grub.cfg",
    'echo "ramstack: no /boot/grub/grub.cfg on the partition with UUID ' + searchUuid + '"',
    "",
  ].join("\n");
}

function mkimage(format: "i386-pc" | "x86_64-efi", out: string, config: string, modules: string[]): void {
  run("grub-mkimage", [
    "-O",
    format,
    "-d",
    join(GRUB_LIB, format),
    "-o",
    out,
    "-c",
    config,
    "-p",
    "/boot/grub",
    ...modules,
  ]);
}

/** BOOTX64.EFI: the file UEFI firmware starts from an ESP's EFI/BOOT. */
export function efiImage(out: string, config: string): void {
  mkimage("x86_64-efi", out, config, EFI_MODULES);
}

// Offsets in GRUB's i386-pc images (include/grub/i386/pc/boot.h, diskboot.S).
const BOOT_KERNEL_SECTOR = 0x5c; // boot.img: 64-bit LBA of core.img's first sector
const BOOT_DRIVE_CHECK = 0x66; // boot.img: a jump that trusts the BIOS's drive number
const MBR_CODE_END = 0x1b8; // the disk signature and partition table follow
const BLOCKLIST_START = SECTOR - 12; // diskboot.img: 64-bit LBA of the rest of core.img

/**
 * BIOS boot: boot.img in the MBR and core.img at `coreSector` (the gap after
 * an MBR, or a GPT disk's BIOS boot partition), `maxSectors` long at most.
 */
export function installBios(
  disk: string,
  config: string,
  coreSector: number,
  maxSectors: number,
  scratch: string,
): void {
  const corePath = `${scratch}/core.img`;
  mkimage("i386-pc", corePath, config, BIOS_MODULES);
  const core = readFileSync(corePath);
  if (core.length > maxSectors * SECTOR)
    throw new Error(`GRUB's core image (${core.length} bytes) does not fit in ${maxSectors} sectors`);
  // diskboot.img (core's first sector) loads the rest from the sector after it.
  core.writeBigUInt64LE(BigInt(coreSector + 1), BLOCKLIST_START);

  const boot = readFileSync(join(GRUB_LIB, "i386-pc", "boot.img"));
  boot.writeBigUInt64LE(BigInt(coreSector), BOOT_KERNEL_SECTOR);
  // A hard disk: some BIOSes pass a wrong drive number, so use 0x80 as grub-bios-setup does.
  boot[BOOT_DRIVE_CHECK] = 0x90;
  boot[BOOT_DRIVE_CHECK + 1] = 0x90;

  const fd = openSync(disk, "r+");
  try {
    writeSync(fd, boot, 0, MBR_CODE_END, 0);
    writeSync(fd, core, 0, core.length, coreSector * SECTOR);
  } finally {
    closeSync(fd);
  }
}
