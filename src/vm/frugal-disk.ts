// A disk holding a build's frugal files, as a user's boot drive would: one
// partition, labelled, the files in an optional psubdir. Remade only when
// the build or the layout changes.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { dirname, join } from "node:path";
import type { PartFs } from "../build/disk.js";
import { linkOrCopy, makeDisk, sizeFor } from "../build/disk.js";
import { readManifest } from "../build/build.js";
import { run } from "../sys/exec.js";
import { sha256 } from "../sys/hash.js";

export interface FrugalDiskOptions {
  build: string;
  psubdir: string;
  label: string;
  fstype: PartFs;
  table: "mbr" | "gpt";
  /** Files to leave out (e.g. zdrv, to boot without it). */
  exclude?: string[];
  /** Extra files or directories to add next to the build's, name -> path. */
  extra?: Record<string, string>;
  /** Where the image goes (default: the build directory). */
  dir?: string;
  /** Free space to leave on the partition, for saves (default 16 MiB). */
  spareMiB?: number;
  /** The size QEMU's SD cards need. */
  powerOfTwo?: boolean;
  /** Told of the disks of an earlier build that were booted (what was saved on them is kept). */
  note?: (line: string) => void;
}

/**
 * A disk's modification time as made: a disk QEMU has booted (the guest
 * mounts its partition) has another, and may hold a user's saves.
 */
const UNBOOTED_MTIME = 0;

/** The frugal files of a build: vmlinuz, initrd.gz and the SFS layers. */
export function frugalFiles(build: string): string[] {
  return Object.keys(readManifest(build).files).sort();
}

/** A directory's paths and file contents, for the cache key. */
function treeListing(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => join(e.parentPath, e.name))
    .sort()
    .map((p) => (statSync(p).isFile() ? `${p}:${readFileSync(p, "utf8")}` : p))
    .join("\n");
}

/**
 * The disks made from an earlier build of the directory and never booted
 * (the tests and benches boot copies): each is as large as its partition
 * (about 100 MiB for a tiny build), and a rebuilt build would otherwise
 * leave one behind per layout it was run with. A booted one may hold
 * saves (`ramstack run` boots the disk itself): it stays, and is named.
 */
function removeEarlierBuildsDisks(dir: string, current: string, note: (line: string) => void): void {
  for (const f of readdirSync(dir)) {
    if (!/^disk-[\w-]+\.img$/.test(f) || f.startsWith(current)) continue;
    const path = join(dir, f);
    if (statSync(path).mtimeMs === UNBOOTED_MTIME) rmSync(path, { force: true });
    else note(`${path}: an earlier build's disk, booted since: kept for what was saved on it (delete it when done)`);
  }
}

export function frugalDisk(o: FrugalDiskOptions): string {
  const files = frugalFiles(o.build).filter((f) => !(o.exclude ?? []).includes(f));
  const extras = Object.entries(o.extra ?? {}).map(([name, path]) => [
    name,
    statSync(path).isDirectory() ? sha256(treeListing(path)) : sha256(readFileSync(path)),
  ]);
  const manifest = readFileSync(join(o.build, "build.json"), "utf8");
  const key = sha256(JSON.stringify({ ...o, extra: extras, manifest }));
  const dir0 = o.dir ?? o.build;
  // Named by the build first: those of an earlier build can be told apart, and go.
  const prefix = `disk-${sha256(manifest).slice(0, 8)}-`;
  const img = join(dir0, `${prefix}${key.slice(0, 12)}.img`);
  if (existsSync(img)) return img;
  if (!o.dir) removeEarlierBuildsDisks(dir0, prefix, o.note ?? (() => undefined));
  const stage = join(dir0, `.stage-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  const dir = join(stage, o.psubdir.replace(/^\/+/, ""));
  mkdirSync(dir, { recursive: true });
  try {
    // Hard links: the staging tree is only read.
    for (const f of files) linkOrCopy(join(o.build, f), join(dir, f));
    for (const [name, path] of Object.entries(o.extra ?? {})) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      // cp -a keeps what a save holds: whiteouts (character devices), xattrs, owners.
      if (statSync(path).isDirectory()) run("cp", ["-a", path, join(dir, name)]);
      else linkOrCopy(path, join(dir, name));
    }
    makeDisk(`${img}.tmp`, {
      table: o.table,
      powerOfTwo: o.powerOfTwo,
      partitions: [{ fstype: o.fstype, label: o.label, sizeMiB: sizeFor(stage, o.spareMiB), from: stage }],
    });
    utimesSync(`${img}.tmp`, new Date(), new Date(UNBOOTED_MTIME));
    renameSync(`${img}.tmp`, img);
  } finally {
    rmSync(`${img}.tmp`, { force: true });
    rmSync(stage, { recursive: true, force: true });
  }
  return img;
}
