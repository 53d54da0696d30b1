// The first save of a session that has none (PUPMODE 5): a save folder or an
// ext2/3/4 save file (optionally inside LUKS2) where the init looks by
// default (beside the main SFS), filled from the RAM layer as its first
// generation. The save appears under its final name only when it is complete.

import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { parseShellVars } from "../plan/shellvars.js";
import { run } from "../sys/exec.js";
import { LUKS_MODULES, luksClose, luksFormat, luksOpen } from "../sys/luks.js";
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
  /** A LUKS2 file (PREFIXsave_luks…); the password only goes to cryptsetup, on a pipe. */
  password?: string;
  progress?: (s: string) => void;
}

export interface FirstSaveResult {
  path: string;
  partition: string;
  stats: MergeStats;
}

/** Where this session's first save went (partition:path), for the shutdown path. */
export const FIRST_SAVE_MARK = "/tmp/ramstack-first-save";

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
  if (o.password !== undefined && o.kind !== "file") throw new Error("an encrypted save is a save file (--new file)");
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
    const base = `${prefix}save${o.password !== undefined ? "_luks" : ""}${o.name ? `-${o.name}` : ""}`;
    const path = join(mnt, dirname(sfsPath), o.kind === "folder" ? base : `${base}.${fs.slice(3)}fs`);
    if (existsSync(path)) throw new Error(`${path} already exists; it is never overwritten`);
    const building = `${path}.new`;
    rmSync(building, { recursive: true, force: true });
    let stats: MergeStats;
    if (o.kind === "folder") {
      mkdirSync(building);
      stats = fill(building, lowers, o.progress);
    } else {
      allocate(building, o.sizeMiB, part);
      const dev = o.password !== undefined ? openNewContainer(building, o.password, o.progress) : building;
      try {
        // LUKS2 encrypts 4 KiB sectors: the filesystem's blocks cannot be smaller (busybox's mke2fs would pick 1 KiB).
        const block = dev === building ? [] : ["-b", "4096"];
        run("mke2fs", !e2fsprogs ? ["-F", ...block, dev] : ["-q", "-F", "-t", fs, "-m", "0", ...block, dev]);
        const inner = `/mnt/ramstack-newsave`;
        mkdirSync(inner, { recursive: true });
        run("mount", ["-t", fs, ...(dev === building ? ["-o", "loop"] : []), dev, inner]);
        try {
          stats = fill(inner, lowers, o.progress);
        } finally {
          run("umount", [inner]);
        }
      } finally {
        if (dev !== building) luksClose(NEW_MAPPER);
      }
    }
    run("sync", []);
    renameSync(building, path);
    run("sync", []);
    // The shutdown path must not offer a first save again in this session.
    writeFileSync(FIRST_SAVE_MARK, `${part}:${relative(mnt, path)}\n`);
    return { path, partition: part, stats };
  } finally {
    if (mountedHere) run("umount", [mnt], { allowFail: true });
  }
}

const NEW_MAPPER = "ramstack-newsave";
/** Room left on the partition beside a new save file. */
const SLACK_MIB = 8;

/**
 * The save file takes its whole size now (fallocate, else zeros are not
 * written and the check below is all there is): a save that fills up later
 * must never find the partition full under it.
 */
function allocate(file: string, sizeMiB: number, part: string): void {
  const st = statfsSync(dirname(file));
  const freeMiB = Math.floor((st.bavail * st.bsize) / 1048576);
  if (freeMiB < sizeMiB + SLACK_MIB) throw new Error(`${part} has ${freeMiB} MiB free; a ${sizeMiB} MiB save file needs ${sizeMiB + SLACK_MIB} MiB (choose a smaller --size, or a folder)`);
  if (run("fallocate", ["-l", String(sizeMiB * 1048576), file], { allowFail: true }).status === 0) return;
  const fd = openSync(file, "w");
  ftruncateSync(fd, sizeMiB * 1048576);
  closeSync(fd);
}

/** Format the file as LUKS2 and open it: the save's filesystem goes inside. */
function openNewContainer(file: string, password: string, progress?: (s: string) => void): string {
  run("modprobe", ["-a", "-q", ...LUKS_MODULES], { allowFail: true });
  mkdirSync("/run/cryptsetup", { recursive: true });
  progress?.("encrypting the save file (LUKS2)");
  luksFormat(file, password);
  if (!luksOpen(file, NEW_MAPPER, password)) throw new Error(`the new LUKS container ${file} does not open with its own password`);
  return `/dev/mapper/${NEW_MAPPER}`;
}

function fill(saveRoot: string, lowers: string[], progress?: (s: string) => void): MergeStats {
  const gens = new SaveGenerations(saveRoot);
  const g = gens.begin();
  const stats = mergeInto({ ram: "/initrd/mnt/tmpfs/pup_rw", base: null, target: g.path, lowers, ...(progress ? { progress } : {}) }, "/tmp/ramstack-first-save.xattrs");
  gens.commit(g.number);
  mkdirSync(join(saveRoot, "work"), { recursive: true });
  return stats;
}
