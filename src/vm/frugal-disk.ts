// A disk holding a build's frugal files, as a user's boot drive would: one
// partition, labelled, the files in an optional psubdir. Remade only when
// the build or the layout changes.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
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
}

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

export function frugalDisk(o: FrugalDiskOptions): string {
  const files = frugalFiles(o.build).filter((f) => !(o.exclude ?? []).includes(f));
  const extras = Object.entries(o.extra ?? {}).map(([name, path]) => [
    name,
    statSync(path).isDirectory() ? sha256(treeListing(path)) : sha256(readFileSync(path)),
  ]);
  const key = sha256(
    JSON.stringify({ ...o, extra: extras, manifest: readFileSync(join(o.build, "build.json"), "utf8") }),
  );
  const dir0 = o.dir ?? o.build;
  const img = join(dir0, `disk-${key.slice(0, 12)}.img`);
  if (existsSync(img)) return img;
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
    renameSync(`${img}.tmp`, img);
  } finally {
    rmSync(`${img}.tmp`, { force: true });
    rmSync(stage, { recursive: true, force: true });
  }
  return img;
}
