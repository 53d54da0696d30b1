// Disk images with a partition table and filled filesystems, made without
// mounting anything: mkfs.ext4 -d fills ext2/3/4, mtools fills FAT. Used by
// `ramstack run` for a build directory and by the tests for fixture disks.

import { closeSync, existsSync, ftruncateSync, openSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run } from "../sys/exec.js";

export type PartFs = "ext2" | "ext3" | "ext4" | "vfat";

export interface PartitionSpec {
  fstype: PartFs;
  label?: string;
  /** ext: a full UUID; vfat: 8 hex digits (the volume serial). */
  uuid?: string;
  sizeMiB: number;
  /** A directory whose contents fill the filesystem. */
  from?: string;
}

export interface DiskSpec {
  table: "mbr" | "gpt";
  partitions: PartitionSpec[];
}

const ALIGN_MIB = 1;
const GPT_LINUX = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
const GPT_BASIC_DATA = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";

/** Fixed times and identifiers, so that the same inputs give the same image. */
const REPRODUCIBLE_ENV = { ...process.env, E2FSPROGS_FAKE_TIME: "1767225600", SOURCE_DATE_EPOCH: "1767225600" };

function sparseFile(path: string, bytes: number): void {
  rmSync(path, { force: true });
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}

function makeFs(img: string, p: PartitionSpec): void {
  sparseFile(img, p.sizeMiB * 1048576);
  if (p.fstype === "vfat") {
    const args = ["-F", p.sizeMiB >= 64 ? "32" : "16", "-i", p.uuid ?? "1234ABCD"];
    if (p.label) args.push("-n", p.label);
    run("mkfs.vfat", [...args, img], { env: REPRODUCIBLE_ENV });
    if (p.from && readdirSync(p.from).length) {
      const items = readdirSync(p.from).sort().map((n) => join(p.from!, n));
      run("mcopy", ["-s", "-p", "-m", "-i", img, ...items, "::/"], { env: { ...REPRODUCIBLE_ENV, MTOOLS_SKIP_CHECK: "1" } });
    }
    return;
  }
  const args = ["-q", "-F", "-t", p.fstype, "-E", "root_owner=0:0", "-m", "0"];
  if (p.label) args.push("-L", p.label);
  if (p.uuid) args.push("-U", p.uuid);
  if (p.from) args.push("-d", p.from);
  run("mke2fs", [...args, img], { env: REPRODUCIBLE_ENV });
}

/** Write a partitioned disk image; returns each partition's start in MiB. */
export function makeDisk(path: string, spec: DiskSpec): number[] {
  if (spec.partitions.length === 0) throw new Error("a disk needs at least one partition");
  const totalMiB = ALIGN_MIB + spec.partitions.reduce((s, p) => s + p.sizeMiB, 0) + 1;
  sparseFile(path, totalMiB * 1048576);
  const starts: number[] = [];
  let at = ALIGN_MIB;
  const lines = [spec.table === "gpt" ? "label: gpt" : "label: dos", spec.table === "gpt" ? "label-id: 5EED5EED-0000-4000-8000-000000000001" : "label-id: 0x5eed5eed", ""];
  for (const [i, p] of spec.partitions.entries()) {
    starts.push(at);
    const type = spec.table === "gpt" ? (p.fstype === "vfat" ? GPT_BASIC_DATA : GPT_LINUX) : p.fstype === "vfat" ? "c" : "83";
    const name = spec.table === "gpt" && p.label ? `, name="${p.label}"` : "";
    lines.push(`start=${at * 2048}, size=${p.sizeMiB * 2048}, type=${type}${name}${i === 0 && spec.table === "mbr" ? ", bootable" : ""}`);
    at += p.sizeMiB;
  }
  run("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", path], { input: lines.join("\n") + "\n" });
  for (const [i, p] of spec.partitions.entries()) {
    const img = `${path}.part${i}`;
    try {
      makeFs(img, p);
      run("dd", [`if=${img}`, `of=${path}`, "bs=1M", `seek=${starts[i]}`, "conv=notrunc,sparse", "status=none"]);
    } finally {
      if (existsSync(img)) rmSync(img);
    }
  }
  return starts;
}

/** Size in MiB that holds a directory's files with room to spare. */
export function sizeFor(dir: string, spareMiB = 16): number {
  const kib = Number(run("du", ["-sk", "--apparent-size", dir]).stdout.split(/\s/)[0] ?? 0);
  return Math.ceil((kib * 1.1) / 1024) + spareMiB;
}
