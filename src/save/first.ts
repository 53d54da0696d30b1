// The first save of a session that has none (PUPMODE 5): a save folder or an
// ext2/3/4 save file where the init looks by default (beside the main SFS),
// filled from the RAM layer as its first generation. The save appears under
// its final name only when it is complete.

import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseShellVars } from "../plan/shellvars.js";
import { run } from "../sys/exec.js";
import { SaveGenerations } from "./generations.js";
import type { MergeStats } from "./merge.js";
import { mergeInto } from "./merge.js";
import { readPupstate, unionLowers } from "./running.js";

export type SaveFs = "ext2" | "ext3" | "ext4";

export interface FirstSaveOptions {
  kind: "folder" | "file";
  /** For a file. */
  sizeMiB: number;
  /** For a file; default ext4 when e2fsprogs is there, else ext2 (busybox's mke2fs). */
  fs?: SaveFs;
  /** PREFIXsave-NAME. */
  name?: string;
  progress?: (s: string) => void;
}

export interface FirstSaveResult {
  path: string;
  partition: string;
  stats: MergeStats;
}

const LINUX_FS = ["ext2", "ext3", "ext4", "btrfs", "xfs", "f2fs"];

function mountPointOf(dev: string): string | undefined {
  return readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .find((f) => f[0] === dev && !(f[3] ?? "").split(",").includes("ro"))?.[1];
}

/** e2fsprogs' mke2fs does ext3/4; busybox's only ext2. */
function fullMke2fs(): boolean {
  return /mke2fs \d/.test(run("mke2fs", ["-V"], { allowFail: true }).stderr);
}

export function firstSave(o: FirstSaveOptions, root = "/"): FirstSaveResult {
  const state = readPupstate(root);
  const mode = state.get("PUPMODE") ?? "5";
  if (mode !== "5") throw new Error(`this session already has a save (PUPMODE ${mode}); 'ramstack save' merges into it`);
  const [part, partFs, sfsPath] = (state.get("PUPSFS") ?? "").split(",");
  if (!part || !partFs || !sfsPath) throw new Error("PUPSTATE does not say where the main SFS is (PUPSFS): cannot tell where the save goes");
  if (o.name !== undefined && !/^[\w.+-]+$/.test(o.name)) throw new Error(`save name '${o.name}' may hold letters, digits and . + - _ only`);
  const specs = parseShellVars(readFileSync(join(root, "etc/DISTRO_SPECS"), "utf8")).vars;
  const prefix = specs.get("DISTRO_FILE_PREFIX") ?? "puppy";
  const e2fsprogs = fullMke2fs();
  const fs = o.fs ?? (e2fsprogs ? "ext4" : "ext2");
  if (o.kind === "folder" && !LINUX_FS.includes(partFs)) throw new Error(`a save folder needs a Linux filesystem; ${part} is ${partFs}: use a save file (--new file)`);
  if (o.kind === "file" && fs !== "ext2" && !e2fsprogs) throw new Error(`making an ${fs} save file needs e2fsprogs' mke2fs; this system has busybox's, which makes ext2 (--fs ext2)`);

  // No save yet: every layer of the union is below the new one.
  const lowers = unionLowers(root);

  // The save's partition, read-write.
  let mnt = mountPointOf(`/dev/${part}`);
  let mountedHere = false;
  if (!mnt) {
    mnt = `/mnt/ramstack-save-${part}`;
    mkdirSync(mnt, { recursive: true });
    run("mount", ["-t", partFs, `/dev/${part}`, mnt]);
    mountedHere = true;
  }
  try {
    const base = `${prefix}save${o.name ? `-${o.name}` : ""}`;
    const path = join(mnt, dirname(sfsPath), o.kind === "folder" ? base : `${base}.${fs.slice(3)}fs`);
    if (existsSync(path)) throw new Error(`${path} already exists; it is never overwritten`);
    const building = `${path}.new`;
    rmSync(building, { recursive: true, force: true });
    let stats: MergeStats;
    if (o.kind === "folder") {
      mkdirSync(building);
      stats = fill(building, lowers, o.progress);
    } else {
      const fd = openSync(building, "w");
      ftruncateSync(fd, o.sizeMiB * 1048576);
      closeSync(fd);
      run("mke2fs", !e2fsprogs ? ["-F", building] : ["-q", "-F", "-t", fs, "-m", "0", building]);
      const inner = `/mnt/ramstack-newsave`;
      mkdirSync(inner, { recursive: true });
      run("mount", ["-t", fs, "-o", "loop", building, inner]);
      try {
        stats = fill(inner, lowers, o.progress);
      } finally {
        run("umount", [inner]);
      }
    }
    run("sync", []);
    renameSync(building, path);
    run("sync", []);
    return { path, partition: part, stats };
  } finally {
    if (mountedHere) run("umount", [mnt], { allowFail: true });
  }
}

function fill(saveRoot: string, lowers: string[], progress?: (s: string) => void): MergeStats {
  const gens = new SaveGenerations(saveRoot);
  const g = gens.begin();
  const stats = mergeInto({ ram: "/initrd/mnt/tmpfs/pup_rw", base: null, target: g.path, lowers, ...(progress ? { progress } : {}) }, "/tmp/ramstack-first-save.xattrs");
  gens.commit(g.number);
  mkdirSync(join(saveRoot, "work"), { recursive: true });
  return stats;
}
