// `ramstack image --board rpi3|rpi4|rpi-zero2|cm4`: an SD card image that a
// Raspberry Pi boots. The Pi's GPU firmware (Debian's raspi-firmware) reads
// config.txt on the first FAT partition, loads the kernel, the board's
// device tree and the initrd, and passes cmdline.txt; the frugal files sit
// beside them. The second partition (ext4) holds the saves: SAVEMARK names
// it, and the init grows it to fill the card at the first boot.

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ProgressOut } from "../lib/progress.js";
import { progress } from "../lib/progress.js";
import { run } from "../sys/exec.js";
import { readManifest } from "./build.js";
import { extractDeb, fetchDeb } from "./cache.js";
import type { PartitionSpec } from "./disk.js";
import { linkOrCopy, makeDisk, sizeFor } from "./disk.js";
import type { ConsoleKind, ImageManifest, ImagePartition } from "./image.js";
import { imagePartitions, manifestPath } from "./image.js";

export type PiBoard = "rpi3" | "rpi4" | "rpi-zero2" | "cm4";
export const PI_BOARDS_LIST: readonly PiBoard[] = ["rpi3", "rpi4", "rpi-zero2", "cm4"];

interface PiFamily {
  /** The GPU firmware's files for this family (in raspi-firmware's usr/lib/raspi-firmware). */
  firmware: string[];
  /** The device trees of the family's boards: the firmware picks the board's own (upstream_kernel=1). */
  dtbs: RegExp;
  /** Memory kept for the GPU's buffers (vc4): the Pi 4 family's firmware sets it itself. */
  cma: string | null;
}

const FAMILIES: Record<"pi3" | "pi4", PiFamily> = {
  pi3: { firmware: ["bootcode.bin", "start.elf", "fixup.dat"], dtbs: /^bcm2837-/, cma: "64M" },
  pi4: { firmware: ["start4.elf", "fixup4.dat"], dtbs: /^bcm2711-/, cma: null },
};

export const PI_BOARDS: Record<PiBoard, { purpose: string; family: keyof typeof FAMILIES }> = {
  rpi3: { purpose: "Raspberry Pi 3 B, 3 B+, 3 A+ and Compute Module 3", family: "pi3" },
  "rpi-zero2": { purpose: "Raspberry Pi Zero 2 W", family: "pi3" },
  rpi4: { purpose: "Raspberry Pi 4 B and 400", family: "pi4" },
  cm4: { purpose: "Compute Module 4 (on its IO board)", family: "pi4" },
};

/**
 * The save partition as written: small, so the image is (ext4's least with
 * a journal and 4 KiB blocks: 3.5 MiB free); it grows to fill the card at
 * the first boot, past its reserved descriptors (the kernel turns on meta_bg).
 */
export const PI_SAVE_MIB = 8;
export const PI_SAVE_LABEL = "ramsave";
export const PI_BOOT_LABEL = "RAMSTACK";

export interface PiImageOptions {
  build: string;
  out: string;
  board: PiBoard;
  console: ConsoleKind;
  /** Boot parameters added to cmdline.txt. */
  cmdline: string;
}

/** config.txt: 64-bit, the kernel and initrd by name, the firmware choosing the upstream device tree. */
export function piConfig(): string {
  return [
    "# ramstack: read by the Raspberry Pi's firmware at power-on.",
    "arm_64bit=1",
    "# Device trees with the kernel's own names (bcm2837-rpi-3-b.dtb), as Debian's kernel expects.",
    "upstream_kernel=1",
    "enable_uart=1",
    "kernel=vmlinuz",
    "initramfs initrd.gz followkernel",
    "",
  ].join("\n");
}

/** cmdline.txt: one line. The last console= is the one the init talks on. */
export function piCmdline(board: PiBoard, console: ConsoleKind, extra: string): string {
  const consoles = console === "serial" ? "console=tty1 console=ttyS1,115200" : "console=ttyS1,115200 console=tty1";
  const cma = FAMILIES[PI_BOARDS[board].family].cma;
  return [consoles, cma ? `cma=${cma}` : "", extra].filter(Boolean).join(" ") + "\n";
}

/** Debian's Raspberry Pi boot firmware, unpacked: its directory of GPU firmware files. */
function piFirmware(log: (s: string) => void): { version: string; dir: string } {
  const deb = fetchDeb("raspi-firmware", log, "non-free-firmware");
  return { version: deb.version, dir: join(extractDeb(deb), "usr/lib/raspi-firmware") };
}

export function writePiImage(o: PiImageOptions, log: (s: string) => void, out: ProgressOut | null): ImageManifest {
  const m = readManifest(o.build);
  if ((m.arch ?? "amd64") !== "arm64")
    throw new Error(`${o.build} is built for ${m.arch ?? "amd64"}; a Raspberry Pi needs 'ramstack build --arch arm64'`);
  if (/[\n\r]/.test(o.cmdline)) throw new Error("boot parameters are one line");
  const family = FAMILIES[PI_BOARDS[o.board].family];
  const dtbs = (m.dtbs ?? []).filter((d) => family.dtbs.test(d));
  if (dtbs.length === 0) throw new Error(`${o.build} has no device tree for the ${o.board} board`);
  const fw = piFirmware(log);
  const scratch = `${o.out}.parts`;
  rmSync(scratch, { recursive: true, force: true });
  const tree = join(scratch, "boot");
  mkdirSync(tree, { recursive: true });
  try {
    for (const f of family.firmware) {
      if (!existsSync(join(fw.dir, f))) throw new Error(`raspi-firmware ${fw.version} has no ${f}`);
      linkOrCopy(join(fw.dir, f), join(tree, f));
    }
    writeFileSync(join(tree, "config.txt"), piConfig());
    writeFileSync(join(tree, "cmdline.txt"), piCmdline(o.board, o.console, o.cmdline));
    // The firmware and QEMU both unpack a gzip'd arm64 kernel: a third of its size on the card.
    log("compressing the kernel (gzip)");
    writeFileSync(
      join(tree, "vmlinuz"),
      run("gzip", ["-9", "-n", "-c", join(o.build, "vmlinuz")], { binary: true }).stdoutBuf,
    );
    for (const f of Object.keys(m.files).filter(
      (f) => f !== "vmlinuz" && (f.endsWith(".sfs") || f === "initrd.gz" || dtbs.includes(f)),
    ))
      linkOrCopy(join(o.build, f), join(tree, f));
    // Saves go to the second partition of the card the system booted from.
    writeFileSync(join(tree, "SAVEMARK"), "2\n");
    const parts: { spec: PartitionSpec; role: ImagePartition["role"] }[] = [
      // FAT16 wastes little on a few large files (its tables, half a cluster each): 1%, and 2 MiB to spare.
      {
        spec: { fstype: "vfat", label: PI_BOOT_LABEL, sizeMiB: sizeFor(tree, 2, 0.01), from: tree },
        role: "boot",
      },
      { spec: { fstype: "ext4", label: PI_SAVE_LABEL, sizeMiB: PI_SAVE_MIB, blockSize: 4096 }, role: "save" },
    ];
    const tmp = `${o.out}.tmp`;
    mkdirSync(dirname(o.out), { recursive: true });
    log(`writing an SD card image for the ${o.board} board`);
    const starts = makeDisk(tmp, { table: "mbr", partitions: parts.map((p) => p.spec) }, progress(out, "image"));
    renameSync(tmp, o.out);
    const result: ImageManifest = {
      image: o.out,
      bytes: statSync(o.out).size,
      table: "mbr",
      firmware: [],
      board: o.board,
      console: o.console,
      psubdir: "",
      distro: { name: m.distro.name, version: m.distro.version },
      partitions: imagePartitions(parts, starts),
    };
    writeFileSync(manifestPath(o.out), JSON.stringify(result, null, 2) + "\n");
    return result;
  } finally {
    rmSync(`${o.out}.tmp`, { force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** mtools' name for the FAT boot partition of an SD card image (mtools reads it without mounting). */
function bootPartition(image: string, m: ImageManifest): string {
  const boot = m.partitions.find((p) => p.role === "boot");
  if (!boot) throw new Error(`${image} has no boot partition in ${manifestPath(image)}`);
  return `${image}@@${boot.startMiB * 1048576}`;
}

const MTOOLS_ENV = (): NodeJS.ProcessEnv => ({ ...process.env, MTOOLS_SKIP_CHECK: "1" });

/** A file from the FAT boot partition of an SD card image. */
export function readBootFile(image: string, m: ImageManifest, name: string, to: string): void {
  rmSync(to, { force: true });
  run("mcopy", ["-n", "-i", bootPartition(image, m), `::${name}`, to], { env: MTOOLS_ENV() });
}

/** The names of the files at the top of an SD card image's boot partition. */
export function listBootFiles(image: string, m: ImageManifest): string[] {
  return run("mdir", ["-b", "-i", bootPartition(image, m), "::/"], { env: MTOOLS_ENV() })
    .stdout.split("\n")
    .map((l) => l.replace(/^::\//, "").trim())
    .filter(Boolean);
}

/** The cmdline.txt of an SD card image. */
export function readBootCmdline(image: string, m: ImageManifest, scratch: string): string {
  const f = join(scratch, "cmdline.txt");
  readBootFile(image, m, "cmdline.txt", f);
  return readFileSync(f, "utf8").trim();
}
