// Disk images with a partition table and filled filesystems: mkfs.ext4 -d
// fills ext2/3/4 and mtools fills FAT without mounting anything; exFAT is
// filled through a loop device and FUSE in a private mount namespace (root).
// Used by `ramstack image`, by `ramstack run` and by the tests.

import {
  closeSync,
  copyFileSync,
  existsSync,
  linkSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  fstatSync,
  writeSync,
  rmSync,
  utimesSync,
} from "node:fs";
import { join } from "node:path";
import { run } from "../sys/exec.js";
import type { Progress } from "../lib/progress.js";
import { NO_PROGRESS } from "../lib/progress.js";

export type PartFs = "ext2" | "ext3" | "ext4" | "vfat" | "exfat";
export const PART_FILESYSTEMS: readonly PartFs[] = ["ext2", "ext3", "ext4", "vfat", "exfat"];

export interface PartitionSpec {
  /** "none": left empty (a BIOS boot partition). */
  fstype: PartFs | "none";
  /** What firmware sees: an EFI system partition, or GRUB's BIOS boot partition on GPT. */
  role?: "esp" | "bios-boot";
  label?: string;
  /** ext: a full UUID; vfat and exfat: 8 hex digits (the volume serial). */
  uuid?: string;
  sizeMiB: number;
  /** ext: the block size (mke2fs picks 1 KiB on small filesystems, too small for one that is grown later). */
  blockSize?: number;
  /** A directory whose contents fill the filesystem. */
  from?: string;
}

export interface DiskSpec {
  table: "mbr" | "gpt";
  partitions: PartitionSpec[];
  /** Round the disk up to a power of two (QEMU's SD cards must be); the rest stays unpartitioned. */
  powerOfTwo?: boolean | undefined;
}

const ALIGN_MIB = 1;
const GPT_LINUX = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
const GPT_BASIC_DATA = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";
const GPT_ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const GPT_BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649";

function partitionType(table: DiskSpec["table"], p: PartitionSpec): string {
  const fat = p.fstype === "vfat" || p.fstype === "exfat";
  if (table === "gpt")
    return p.role === "esp" ? GPT_ESP : p.role === "bios-boot" ? GPT_BIOS_BOOT : fat ? GPT_BASIC_DATA : GPT_LINUX;
  if (p.role === "bios-boot") throw new Error("a BIOS boot partition belongs on a GPT disk");
  return p.role === "esp" ? "ef" : p.fstype === "exfat" ? "7" : p.fstype === "vfat" ? "c" : "83";
}

/** Fixed times and identifiers, so that the same inputs give the same image. */
const EPOCH = 1767225600;
const REPRODUCIBLE_ENV = { ...process.env, E2FSPROGS_FAKE_TIME: String(EPOCH), SOURCE_DATE_EPOCH: String(EPOCH) };

/** Every file and directory of a tree gets the fixed time (mkfs and mtools copy file times); returns their paths. */
function fixTimes(dir: string, rel = ""): string[] {
  const paths: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) paths.push(...fixTimes(p, `${rel}/${e.name}`));
    if (!e.isSymbolicLink()) utimesSync(p, EPOCH, EPOCH);
    paths.push(`${rel}/${e.name}`);
  }
  utimesSync(dir, EPOCH, EPOCH);
  return paths;
}

function sparseFile(path: string, bytes: number): void {
  rmSync(path, { force: true });
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}

/** exFAT has no way to be filled offline here: a loop device and exfat-fuse in a private mount namespace. */
function fillExfat(img: string, from: string): void {
  if (process.getuid?.() !== 0) throw new Error("filling an exFAT partition needs root (a loop device and FUSE)");
  const loop = run("losetup", ["--find", "--show", img]).stdout.trim();
  const mnt = `${img}.mnt`;
  mkdirSync(mnt, { recursive: true });
  try {
    run("unshare", [
      "-m",
      "--propagation",
      "private",
      "sh",
      "-ec",
      'mount.exfat-fuse "$1" "$2"; cp -R "$3"/. "$2"/; sync; umount "$2"',
      "sh",
      loop,
      mnt,
      from,
    ]);
  } finally {
    run("losetup", ["-d", loop], { allowFail: true });
    rmSync(mnt, { recursive: true, force: true });
  }
}

function makeFs(img: string, p: PartitionSpec): void {
  sparseFile(img, p.sizeMiB * 1048576);
  if (p.fstype === "none") return;
  const paths = p.from ? fixTimes(p.from) : [];
  if (p.fstype === "exfat") {
    run("mkfs.exfat", [...(p.label ? ["-L", p.label] : []), img]);
    if (p.uuid) run("tune.exfat", ["-I", `0x${p.uuid}`, img]);
    if (p.from && readdirSync(p.from).length) fillExfat(img, p.from);
    return;
  }
  if (p.fstype === "vfat") {
    const args = ["--invariant", "-F", p.sizeMiB >= 64 ? "32" : "16", "-i", p.uuid ?? "1234ABCD"];
    if (p.label) args.push("-n", p.label);
    run("mkfs.vfat", [...args, img], { env: REPRODUCIBLE_ENV });
    if (p.from && readdirSync(p.from).length) {
      const items = readdirSync(p.from)
        .sort()
        .map((n) => join(p.from!, n));
      run("mcopy", ["-s", "-p", "-m", "-i", img, ...items, "::/"], {
        env: { ...REPRODUCIBLE_ENV, MTOOLS_SKIP_CHECK: "1" },
      });
    }
    return;
  }
  // The directory hash seed is random unless given (mke2fs keeps only the last -E).
  const extended = ["root_owner=0:0", ...(p.uuid ? [`hash_seed=${p.uuid}`] : [])].join(",");
  const args = ["-q", "-F", "-t", p.fstype, "-E", extended, "-m", "0"];
  if (p.label) args.push("-L", p.label);
  if (p.uuid) args.push("-U", p.uuid);
  if (p.blockSize) args.push("-b", String(p.blockSize));
  if (p.from) args.push("-d", p.from);
  run("mke2fs", [...args, img], { env: REPRODUCIBLE_ENV });
  // mke2fs -d copies each file's change time, which cannot be set on the source, and its access
  // time, which anything reading the tree meanwhile (a test running beside) moves: set both here.
  const setCtime = ["/", ...paths]
    .flatMap((f) => [`set_inode_field "${f}" ctime @${EPOCH}`, `set_inode_field "${f}" atime @${EPOCH}`])
    .join("\n");
  if (paths.length) run("debugfs", ["-w", "-f", "-", img], { input: setCtime + "\n", env: REPRODUCIBLE_ENV });
}

/** Write a partitioned disk image; returns each partition's start in MiB (the first at 1 MiB). */
export function makeDisk(path: string, spec: DiskSpec, p: Progress = NO_PROGRESS): number[] {
  if (spec.partitions.length === 0) throw new Error("a disk needs at least one partition");
  // A GPT keeps a backup of itself in the disk's last sectors; an MBR needs nothing after the last partition.
  let totalMiB = ALIGN_MIB + spec.partitions.reduce((s, p) => s + p.sizeMiB, 0) + (spec.table === "gpt" ? 1 : 0);
  if (spec.powerOfTwo) totalMiB = 2 ** Math.ceil(Math.log2(totalMiB));
  sparseFile(path, totalMiB * 1048576);
  const starts: number[] = [];
  let at = ALIGN_MIB;
  const lines = [
    spec.table === "gpt" ? "label: gpt" : "label: dos",
    spec.table === "gpt" ? "label-id: 5EED5EED-0000-4000-8000-000000000001" : "label-id: 0x5eed5eed",
    "",
  ];
  for (const [i, p] of spec.partitions.entries()) {
    starts.push(at);
    const type = partitionType(spec.table, p);
    const name = spec.table === "gpt" && p.label ? `, name="${p.label}"` : "";
    // GPT partition GUIDs are random unless given: derive them for reproducible images.
    const guid = spec.table === "gpt" ? `, uuid=5EED5EED-0000-4000-8000-${String(i + 1).padStart(12, "0")}` : "";
    lines.push(
      `start=${at * 2048}, size=${p.sizeMiB * 2048}, type=${type}${name}${guid}${i === 0 && spec.table === "mbr" ? ", bootable" : ""}`,
    );
    at += p.sizeMiB;
  }
  run("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", path], { input: lines.join("\n") + "\n" });
  for (const [i, part] of spec.partitions.entries()) {
    const img = `${path}.part${i}`;
    try {
      p.note(`partition ${i + 1} of ${spec.partitions.length}: ${part.fstype}, ${part.sizeMiB} MiB`);
      makeFs(img, part);
      copySparse(img, path, starts[i]! * 1048576, p);
    } finally {
      if (existsSync(img)) rmSync(img);
    }
  }
  return starts;
}

/**
 * Copy a partition's image into the disk at AT bytes, its percentage shown.
 * Blocks of zeros are skipped (the disk is a new sparse file), as dd's
 * conv=sparse would.
 */
function copySparse(from: string, to: string, at: number, p: Progress): void {
  const src = openSync(from, "r");
  const dst = openSync(to, "r+");
  try {
    const size = fstatSync(src).size;
    const buf = Buffer.alloc(1048576);
    const zeros = Buffer.alloc(buf.length);
    for (let off = 0; off < size;) {
      const n = readSync(src, buf, 0, buf.length, off);
      if (n === 0) break;
      const block = buf.subarray(0, n);
      if (!block.equals(zeros.subarray(0, n))) writeSync(dst, block, 0, n, at + off);
      off += n;
      p.update(off, size, `of ${(size / 1048576).toFixed(0)} MiB`);
    }
    p.end();
  } finally {
    closeSync(src);
    closeSync(dst);
  }
}

/** Hard link (a staging tree is only read), or copy across filesystems. */
export function linkOrCopy(src: string, dest: string): void {
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}

/** Size in MiB that holds a directory's files with room to spare. */
export function sizeFor(dir: string, spareMiB = 16, overhead = 0.1): number {
  const kib = Number(run("du", ["-sk", "--apparent-size", dir]).stdout.split(/\s/)[0] ?? 0);
  return Math.ceil((kib * (1 + overhead)) / 1024) + spareMiB;
}
