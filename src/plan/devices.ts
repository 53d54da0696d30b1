// Which partitions the init may look at, in which order, and how a
// partition is named by a boot parameter (name, label or UUID prefix).

import { DEFAULT_FILESYSTEMS, fsName, notSearched } from "./filesystems.js";
import type { Machine, MachineDisk, MachinePartition } from "./machine.js";
import type { FileTree } from "./tree.js";
import { JsonTree } from "./tree.js";

export interface Part {
  name: string;
  disk: MachineDisk;
  fstype: string;
  label: string;
  uuid: string;
  sizeMiB: number;
  freeMiB: number;
  optical: boolean;
  usb: boolean;
  tree: FileTree;
}

// The filesystem lists live in filesystems.ts; these names stay for src/save's imports.
export { ARCHIVE_FS, FSCK_FS, isLinuxFs, LINUX_FS } from "./filesystems.js";

/** Devices Puppy never searches (fx_drv_is_ok). */
const SKIPPED_DEVICE = /^(ram|loop|nbd|dm-|md|nand|bcache|mtdblock|fd)|boot/;

/** Natural order: sda2 before sda10, nvme0n1p2 before nvme0n1p10. */
export function naturalCompare(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i]!;
    const y = rb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return ra.length - rb.length;
}

/** The name of partition N on a disk: nvme0n1 and mmcblk0 take a `p`. */
export function partitionName(disk: string, n: number): string {
  return /\d$/.test(disk) ? `${disk}p${n}` : `${disk}${n}`;
}

export interface Inventory {
  /** Partitions the init may search, in search order (optical last). */
  parts: Part[];
  skipped: { name: string; reason: string }[];
}

export function takeInventory(
  machine: Machine,
  treeFor: (p: MachinePartition, d: MachineDisk) => FileTree = (p) => new JsonTree(p.files),
): Inventory {
  const kernelFs = new Set(machine.filesystems ?? DEFAULT_FILESYSTEMS);
  const parts: Part[] = [];
  const skipped: Inventory["skipped"] = [];
  for (const disk of machine.disks) {
    for (const p of disk.partitions) {
      if (SKIPPED_DEVICE.test(p.name)) {
        skipped.push({ name: p.name, reason: "device type is never searched" });
        continue;
      }
      const fs = fsName(p.fstype);
      const unsearched = notSearched(fs);
      if (unsearched) {
        skipped.push({ name: p.name, reason: unsearched });
        continue;
      }
      if (!kernelFs.has(fs)) {
        skipped.push({ name: p.name, reason: `the kernel cannot mount ${fs}` });
        continue;
      }
      parts.push({
        name: p.name,
        disk,
        fstype: fs,
        label: p.label ?? "",
        uuid: p.uuid ?? "",
        sizeMiB: p.sizeMiB,
        freeMiB: p.freeMiB,
        optical: disk.transport === "cd" || (fs === "iso9660" && /^sr\d/.test(p.name)),
        usb: disk.transport === "usb",
        tree: treeFor(p, disk),
      });
    }
  }
  parts.sort((a, b) => (a.optical === b.optical ? naturalCompare(a.name, b.name) : a.optical ? 1 : -1));
  return { parts, skipped };
}

export type IdMatch =
  | { kind: "found"; part: Part; how: string }
  | { kind: "ambiguous"; candidates: Part[]; how: string }
  | { kind: "missing" };

/**
 * Find the partition a boot parameter names: a device name (with or without
 * /dev/), or a label or UUID, where a unique prefix is enough. An exact
 * label or UUID beats prefixes; a prefix shared by two partitions is an
 * error that names both, never a silent pick.
 */
export function resolveId(rawId: string, parts: readonly Part[]): IdMatch {
  let id = rawId.trim();
  let only: "label" | "uuid" | null = null;
  if (/^UUID=/i.test(id)) {
    only = "uuid";
    id = id.slice(5);
  } else if (/^LABEL=/i.test(id)) {
    only = "label";
    id = id.slice(6);
  }
  id = id.replace(/^"(.*)"$/, "$1");
  if (id === "") return { kind: "missing" };
  if (only === null) {
    const dev = id.replace(/^\/dev\//, "");
    const byName = parts.find((p) => p.name === dev);
    if (byName) return { kind: "found", part: byName, how: "device name" };
    if (id.startsWith("/dev/")) return { kind: "missing" };
  }
  const uuidOf = (p: Part): string => p.uuid.toLowerCase();
  const lid = id.toLowerCase();
  const tries: [string, (p: Part) => boolean][] = [];
  if (only !== "uuid") tries.push(["label", (p) => p.label !== "" && p.label === id]);
  if (only !== "label") tries.push(["UUID", (p) => p.uuid !== "" && uuidOf(p) === lid]);
  if (only !== "uuid") tries.push(["label prefix", (p) => p.label !== "" && p.label.startsWith(id)]);
  if (only !== "label") tries.push(["UUID prefix", (p) => p.uuid !== "" && uuidOf(p).startsWith(lid)]);
  // Exact matches first (label and UUID together), then prefixes.
  for (const group of [tries.filter(([h]) => !h.includes("prefix")), tries.filter(([h]) => h.includes("prefix"))]) {
    const hits = new Map<string, { part: Part; how: string }>();
    for (const [how, test] of group)
      for (const p of parts) if (test(p) && !hits.has(p.name)) hits.set(p.name, { part: p, how });
    if (hits.size === 1) {
      const [hit] = hits.values();
      return { kind: "found", part: hit!.part, how: hit!.how };
    }
    if (hits.size > 1) {
      const candidates = [...hits.values()].map((h) => h.part);
      return { kind: "ambiguous", candidates, how: [...new Set([...hits.values()].map((h) => h.how))].join("/") };
    }
  }
  return { kind: "missing" };
}

export function describePart(p: Part): string {
  const bits = [p.fstype];
  if (p.label) bits.push(`label ${p.label}`);
  if (p.uuid) bits.push(`UUID ${p.uuid}`);
  return `${p.name} (${bits.join(", ")})`;
}
