// What the benches share: an SFS's size with xz (the goals' measure) when
// it was built otherwise, and a guest's memory read from /proc/meminfo,
// judged by what the system holds.

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_EPOCH } from "../src/build/build.js";
import { mksquashfs } from "../src/build/squashfs.js";
import { run } from "../src/sys/exec.js";
import type { Vm } from "../src/vm/qemu.js";

export const MEMINFO_KEYS = [
  "MemTotal",
  "MemFree",
  "MemAvailable",
  "Buffers",
  "Cached",
  "SReclaimable",
  "Shmem",
  "AnonPages",
  "SUnreclaim",
  "KernelStack",
  "PageTables",
];

/** An SFS's compressor, as its superblock says. */
export function compressorOf(file: string): string {
  return /^Compression (\w+)/m.exec(run("unsquashfs", ["-s", file]).stdout)?.[1] ?? "unknown";
}

/** FILE's size in MiB with xz: its own when it is xz, else that of its files squashed again as the build would. */
export function xzMiB(file: string): number {
  if (compressorOf(file) === "xz") return statSync(file).size / 1048576;
  const dir = mkdtempSync(join(tmpdir(), "ramstack-xz-"));
  try {
    run("unsquashfs", ["-q", "-n", "-d", join(dir, "tree"), file]);
    const out = join(dir, "xz.sfs");
    mksquashfs(join(dir, "tree"), out, { compression: { comp: "xz" }, epoch: DEFAULT_EPOCH, keepOwners: true });
    return statSync(out).size / 1048576;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const MiB = (kB: number): number => kB / 1024;

/** /proc/meminfo in the guest: kB by key (MEMINFO_KEYS). */
export async function guestMeminfo(vm: Vm): Promise<Record<string, number>> {
  const info = await vm.check("cat /proc/meminfo");
  const mem: Record<string, number> = {};
  for (const k of MEMINFO_KEYS) {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(info);
    if (!m) throw new Error(`/proc/meminfo has no ${k}`);
    mem[k] = Number(m[1]);
  }
  return mem;
}

/** kB, the "used" column of the guest's own free(1). */
export async function guestFreeUsedKiB(vm: Vm): Promise<number> {
  return Number(/^Mem:\s+\d+\s+(\d+)/m.exec(await vm.check("free -k"))?.[1] ?? NaN);
}

/** kB the system holds: neither free nor a cache the kernel can drop (tmpfs's Shmem counted back in). */
export const heldKiB = (x: Record<string, number>): number =>
  x.MemTotal! - x.MemFree! - x.Buffers! - (x.Cached! - x.Shmem!) - x.SReclaimable!;
