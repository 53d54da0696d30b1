// `ramstack image`: a bootable disk image holding a build's frugal files,
// with GRUB for BIOS and UEFI and a menu of the usual boot choices. The
// layout is described next to the image in IMAGE.json, which `ramstack run`
// reads to pick the firmware and console.

import type { ProgressOut } from "../lib/progress.js";
import { progress } from "../lib/progress.js";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { readManifest } from "./build.js";
import type { DiskSpec, PartFs, PartitionSpec } from "./disk.js";
import { linkOrCopy, makeDisk, sizeFor } from "./disk.js";
import { earlyConfig, efiImage, installBios } from "./grub.js";
import { sha256 } from "../sys/hash.js";
import type { PiBoard } from "./pi-image.js";
import { PI_BOARDS_LIST } from "./pi-image.js";

export type Firmware = "bios" | "uefi";
export type ConsoleKind = "vga" | "serial";

export interface ImageOptions {
  build: string;
  out: string;
  table: "mbr" | "gpt";
  fs: PartFs;
  label: string;
  /** Directory of the boot partition that holds the frugal files ("" = its root). */
  psubdir: string;
  firmware: Firmware[];
  console: ConsoleKind;
  /** Boot parameters added to every menu entry. */
  cmdline: string;
  /** GRUB's menu timeout in seconds. */
  menuTimeout: number;
  /** The boot partition's size; default: the files plus 64 MiB. */
  sizeMiB?: number;
  /** Further partitions, e.g. one for saves. */
  extra: PartitionSpec[];
}

export interface ImagePartition {
  number: number;
  role: "bios-boot" | "esp" | "boot" | "extra" | "save";
  fstype: string;
  label?: string;
  uuid?: string;
  startMiB: number;
  sizeMiB: number;
}

/** IMAGE.json: what `ramstack run` and scripts need to know about an image. */
export interface ImageManifest {
  image: string;
  bytes: number;
  table: "mbr" | "gpt";
  firmware: Firmware[];
  /** A Raspberry Pi's SD card image (its firmware is the Pi's own): the board it was written for. */
  board?: PiBoard;
  console: ConsoleKind;
  psubdir: string;
  distro: { name: string; version: string };
  partitions: ImagePartition[];
}

const ESP_MIB = 32;
const BIOS_BOOT_MIB = 1;
const MAX_LABEL: Record<PartFs, number> = { ext2: 16, ext3: 16, ext4: 16, vfat: 11, exfat: 11 };

export const manifestPath = (image: string): string => `${image}.json`;

export function readImageManifest(image: string): ImageManifest | undefined {
  const p = manifestPath(image);
  return existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as ImageManifest) : undefined;
}

/** A label the filesystem can hold and GRUB and the init can match. */
export function checkLabel(fs: PartFs, label: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(label)) throw new Error(`label '${label}' may hold letters, digits, - and _ only`);
  if (label.length > MAX_LABEL[fs]) throw new Error(`label '${label}' is longer than ${fs} allows (${MAX_LABEL[fs]})`);
}

/** GRUB reads the menu's command lines as shell words: keep to characters it takes literally. */
function checkCmdline(cmdline: string): void {
  const bad = /["'\\$;{}|&<>`\n]/.exec(cmdline);
  if (bad) throw new Error(`boot parameters may not hold '${bad[0]}' (GRUB would read it as syntax)`);
}

/** Identifiers derived from the inputs: the same build and options give the same image. */
function uuidFor(seed: string, fs: PartFs): string {
  const h = sha256(seed);
  if (fs === "vfat" || fs === "exfat") return h.slice(0, 8).toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** How GRUB's search --fs-uuid spells a filesystem's identifier. */
const grubUuid = (fs: PartFs, uuid: string): string =>
  fs === "vfat" || fs === "exfat" ? `${uuid.slice(0, 4)}-${uuid.slice(4)}` : uuid;

export function grubMenu(
  o: Pick<ImageOptions, "psubdir" | "console" | "cmdline" | "menuTimeout">,
  title: string,
): string {
  const dir = o.psubdir ? `/${o.psubdir}` : "";
  const consoleArgs = o.console === "serial" ? "console=tty0 console=ttyS0,115200" : "";
  const base = [o.psubdir ? `psubdir=${dir}` : "", consoleArgs, o.cmdline].filter(Boolean).join(" ");
  const entry = (name: string, extra: string): string[] => [
    `menuentry "${name}" {`,
    `  echo "Loading ${title} ..."`,
    `  linux ${dir}/vmlinuz ${[base, extra].filter(Boolean).join(" ")}`,
    `  initrd ${dir}/initrd.gz`,
    "}",
  ];
  return [
    "# ramstack boot menu: edit the lines below to change the boot parameters.",
    "set default=0",
    `set timeout=${o.menuTimeout}`,
    ...(o.console === "serial"
      ? ["serial --unit=0 --speed=115200", "terminal_input serial console", "terminal_output serial console"]
      : []),
    "",
    ...entry(title, ""),
    ...entry(`${title} - copy the system to RAM (pfix=copy)`, "pfix=copy"),
    ...entry(`${title} - RAM only, no save (pfix=ram)`, "pfix=ram"),
    ...entry(`${title} - rescue shell in the initrd (pfix=rdsh)`, "pfix=rdsh"),
    "",
  ].join("\n");
}

/** IMAGE.json's partitions: each one as written, where makeDisk put it. */
export function imagePartitions(
  parts: readonly { spec: PartitionSpec; role: ImagePartition["role"] }[],
  starts: readonly number[],
): ImagePartition[] {
  return parts.map((p, i) => ({
    number: i + 1,
    role: p.role,
    fstype: p.spec.fstype,
    ...(p.spec.label ? { label: p.spec.label } : {}),
    ...(p.spec.uuid ? { uuid: p.spec.uuid } : {}),
    startMiB: starts[i]!,
    sizeMiB: p.spec.sizeMiB,
  }));
}

export function writeImage(
  o: ImageOptions,
  log: (s: string) => void = () => {},
  out: ProgressOut | null = null,
): ImageManifest {
  const manifest = readManifest(o.build);
  if ((manifest.arch ?? "amd64") !== "amd64")
    throw new Error(
      `${o.build} is built for ${manifest.arch}: write it for a Raspberry Pi with --board (${PI_BOARDS_LIST.join(", ")})`,
    );
  const psubdir = o.psubdir.replace(/^\/+|\/+$/g, "");
  if (psubdir.split("/").some((c) => c === ".." || c === "."))
    throw new Error(`psubdir '${o.psubdir}' may not hold . or ..`);
  if (o.firmware.length === 0) throw new Error("name at least one firmware: bios, uefi");
  checkLabel(o.fs, o.label);
  checkCmdline(o.cmdline);
  for (const p of o.extra) if (p.label && p.fstype !== "none") checkLabel(p.fstype, p.label);

  const seed = JSON.stringify({ files: manifest.files, o: { ...o, build: undefined, out: undefined } });
  const uuid = uuidFor(seed, o.fs);
  const title = `${manifest.distro.name} ${manifest.distro.version}`;
  const scratch = `${o.out}.parts`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  try {
    // The boot partition's tree: the frugal files and GRUB's menu.
    const tree = join(scratch, "boot");
    const files = join(tree, psubdir);
    mkdirSync(files, { recursive: true });
    for (const f of Object.keys(manifest.files)) linkOrCopy(join(o.build, f), join(files, f));
    mkdirSync(join(tree, "boot/grub"), { recursive: true });
    writeFileSync(join(tree, "boot/grub/grub.cfg"), grubMenu({ ...o, psubdir }, title));
    const need = sizeFor(tree, 64);
    const bootMiB = o.sizeMiB ?? need;
    if (bootMiB < need - 48)
      throw new Error(`--size ${bootMiB} MiB is too small: the boot files need about ${need - 64} MiB`);

    const early = join(scratch, "early.cfg");
    writeFileSync(early, earlyConfig(grubUuid(o.fs, uuid)));
    const parts: { spec: PartitionSpec; role: ImagePartition["role"] }[] = [];
    const bios = o.firmware.includes("bios");
    if (bios && o.table === "gpt")
      parts.push({ spec: { fstype: "none", role: "bios-boot", sizeMiB: BIOS_BOOT_MIB }, role: "bios-boot" });
    if (o.firmware.includes("uefi")) {
      const esp = join(scratch, "esp");
      mkdirSync(join(esp, "EFI/BOOT"), { recursive: true });
      efiImage(join(esp, "EFI/BOOT/BOOTX64.EFI"), early);
      parts.push({
        spec: {
          fstype: "vfat",
          role: "esp",
          label: "EFI",
          uuid: uuidFor(`${seed}esp`, "vfat"),
          sizeMiB: ESP_MIB,
          from: esp,
        },
        role: "esp",
      });
    }
    parts.push({ spec: { fstype: o.fs, label: o.label, uuid, sizeMiB: bootMiB, from: tree }, role: "boot" });
    for (const p of o.extra) parts.push({ spec: p, role: "extra" });
    if (o.table === "mbr" && parts.length > 4)
      throw new Error(`an MBR disk holds 4 partitions; this layout has ${parts.length} (use --table gpt)`);

    const tmp = `${o.out}.tmp`;
    mkdirSync(dirname(o.out), { recursive: true });
    const spec: DiskSpec = { table: o.table, partitions: parts.map((p) => p.spec) };
    log(`writing a ${o.table.toUpperCase()} disk with ${parts.length} partition${parts.length === 1 ? "" : "s"}`);
    const starts = makeDisk(tmp, spec, progress(out, "image"));
    if (bios) {
      log("installing GRUB for BIOS");
      // MBR: the gap before the first partition; GPT: the BIOS boot partition.
      const i = parts.findIndex((p) => p.role === "bios-boot");
      const at = i >= 0 ? starts[i]! * 2048 : 1;
      installBios(tmp, early, at, i >= 0 ? BIOS_BOOT_MIB * 2048 : starts[0]! * 2048 - 1, scratch);
    }
    renameSync(tmp, o.out);
    const result: ImageManifest = {
      image: o.out,
      bytes: statSync(o.out).size,
      table: o.table,
      firmware: o.firmware,
      console: o.console,
      psubdir,
      distro: { name: manifest.distro.name, version: manifest.distro.version },
      partitions: imagePartitions(parts, starts),
    };
    writeFileSync(manifestPath(o.out), JSON.stringify(result, null, 2) + "\n");
    return result;
  } finally {
    rmSync(`${o.out}.tmp`, { force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}
