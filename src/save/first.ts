// The first save of a session that has none (PUPMODE 5): a save folder, an
// ext2/3/4 save file (optionally inside LUKS2) or, on FAT, an archive, where
// the init looks (the place psave, SAVEMARK or SAVESPEC gave, which PUPSTATE
// keeps as PSAVEPART and PSAVEDIR, else beside the main SFS) or anywhere
// else with a SAVESPEC that says where. Folders and files are filled from
// the RAM layer as their first generation; a save appears under its final
// name only when it is complete. Then the next boot is planned, to tell the
// user whether it will use the save.

import { defaultPort } from "../port/default.js";
import { dirname, join } from "../lib/path.js";
import type { Pupstate } from "../plan/handover.js";
import { ARCHIVE_FS, LINUX_FS, WRITABLE_FS } from "../plan/filesystems.js";
import { parseShellVars } from "../plan/shellvars.js";
import type { Port } from "../port/port.js";
import { LUKS_MODULES } from "../plan/luks.js";
import { SaveGenerations } from "./generations.js";
import type { MergeStats } from "./merge.js";
import { mergeInto, ramEntries } from "./merge.js";
import { identifyPath } from "../sys/blkid.js";
import type { BlockDisk } from "../sys/blockdevs.js";
import { listBlockDisks } from "../sys/blockdevs.js";
import { writeArchive } from "./archive.js";
import type { Progress } from "../lib/progress.js";
import type { NextBoot } from "./next-boot.js";
import { judgeNextBoot, planNextBoot } from "./next-boot.js";
import { mainSfs, ramLayer, readPupstate, unionLowers, withPartition } from "./running.js";

export type SaveFs = "ext2" | "ext3" | "ext4";

export interface FirstSaveOptions {
  /** folder (Linux filesystems), file (ext2/3/4 image), archive (PREFIXsave66.tar.gz, for FAT/exFAT). */
  kind: "folder" | "file" | "archive";
  /** For a file. */
  sizeMiB: number;
  /** For a file; default ext4 when e2fsprogs is there, else ext2 (busybox's mke2fs). */
  fs?: SaveFs;
  /** PREFIXsave-NAME. */
  name?: string;
  /** A LUKS2 file (PREFIXsave_luks…); the password only goes to cryptsetup, on a pipe. */
  password?: string;
  /** The partition to save on (default: where the init looks); elsewhere, SAVESPEC tells the init. */
  partition?: string;
  /** The directory on it (default: where the init looks, or / on another partition). */
  dir?: string;
  progress?: Progress;
}

export interface FirstSaveResult {
  path: string;
  partition: string;
  /** Files and directories written. */
  entries: number;
  /** The SAVESPEC written beside the main SFS (partition:path), when the save is not where the init looks by default. */
  savespec: string | null;
  /** What the next boot, planned with this boot's command line, does with the save. */
  nextBoot: NextBoot;
}

/** Where the init looks for a save: PSAVEPART and PSAVEDIR when a place was given, else beside the main SFS. */
export function saveTargetOf(state: Pupstate): { part: string; dir: string } | null {
  const part = state.psavepart;
  if (part) return { part, dir: normalizeDir(state.psavedir || "/") };
  const sfs = mainSfs(state);
  return sfs && sfs.part !== "rootfs" ? { part: sfs.part, dir: normalizeDir(dirname(sfs.path)) } : null;
}

/** Where this session's first save went (partition:path), for the shutdown path. */
export const FIRST_SAVE_MARK = "/tmp/ramstack-first-save";

/** Where a save file can go: the filesystems the init accepts a save on (the planner's table). */
export { WRITABLE_FS };

/** e2fsprogs' mke2fs does ext3/4; busybox's only ext2. */
export function fullMke2fs(port: Port = defaultPort()): boolean {
  return /mke2fs \d/.test(port.run("mke2fs", ["-V"], { allowFail: true }).stderr);
}

export function firstSave(o: FirstSaveOptions, root = "/", port: Port = defaultPort()): FirstSaveResult {
  const state = readPupstate(root, port);
  const mode = state.pupmode;
  if (mode !== 5) throw new Error(`this session already has a save (PUPMODE ${mode}); 'ramstack save' merges into it`);
  const sfs = mainSfs(state);
  if (!sfs) throw new Error("PUPSTATE does not say where the main SFS is (PUPSFS): cannot tell where the save goes");
  const { part: bootPart, fs: bootFs, path: sfsPath } = sfs;
  if (o.name !== undefined && !/^[\w.+-]+$/.test(o.name))
    throw new Error(`save name '${o.name}' may hold letters, digits and . + - _ only`);
  const target = saveTargetOf(state);
  if (!target && o.partition === undefined)
    throw new Error("the main SFS is in the initrd and no save place was given (psave=): choose one with --partition");
  const part = o.partition ?? target!.part;
  const partFs = part === bootPart ? bootFs : identifyPath(`/dev/${part}`)?.fstype;
  if (!partFs) throw new Error(`${part}: no partition with a filesystem by that name`);
  const bootDir = dirname(sfsPath);
  const dir = normalizeDir(o.dir ?? (part === target?.part ? target.dir : part === bootPart ? bootDir : "/"));
  const specsText = port.readText(join(root, "etc/DISTRO_SPECS"));
  if (specsText === undefined) throw new Error(`${join(root, "etc/DISTRO_SPECS")} cannot be read`);
  const specs = parseShellVars(specsText).vars;
  const prefix = specs.get("DISTRO_FILE_PREFIX") ?? "puppy";
  const e2fsprogs = fullMke2fs(port);
  const fs = o.fs ?? (e2fsprogs ? "ext4" : "ext2");
  if (o.kind === "folder" && !LINUX_FS.includes(partFs))
    throw new Error(
      `a save folder needs a Linux filesystem; ${part} is ${partFs}: use a save file (--new file) or an archive (--new archive)`,
    );
  if (o.kind === "archive" && !ARCHIVE_FS.includes(partFs))
    throw new Error(`archive saves are for FAT and exFAT; ${part} is ${partFs}: use a folder (--new folder)`);
  if (o.password !== undefined && o.kind !== "file") throw new Error("an encrypted save is a save file (--new file)");
  if (o.kind === "file" && fs !== "ext2" && !e2fsprogs)
    throw new Error(
      `making an ${fs} save file needs e2fsprogs' mke2fs; this system has busybox's, which makes ext2 (--fs ext2)`,
    );

  // No save yet: every layer of the union is below the new one.
  const lowers = unionLowers(root, port);
  const base = `${prefix}save${o.password !== undefined ? "_luks" : ""}${o.name ? `-${o.name}` : ""}`;
  const fileName =
    o.kind === "folder" ? base : o.kind === "archive" ? `${prefix}save66.tar.gz` : `${base}.${fs.slice(3)}fs`;
  const made = withPartition(
    part,
    partFs,
    (mnt) => {
      const path = join(mnt, dir, fileName);
      if (port.stat(path) !== null)
        throw new Error(`${part}:${join(dir, fileName)} already exists; it is never overwritten`);
      port.mkdir(dirname(path));
      const entries =
        o.kind === "archive"
          ? writeArchive(ramLayer(root, port), path, o.progress, port).members
          : makeLayer(port, o, fs, e2fsprogs, path, part, lowers, ramLayer(root, port));
      return { path, entries };
    },
    port,
  );
  // The init looks at the given place (or beside the main SFS); a save anywhere else needs a SAVESPEC there.
  const where = target !== null && part === target.part && dir === target.dir;
  const savespec =
    where || bootPart === "rootfs" ? null : writeSavespec(port, bootPart, bootFs, bootDir, part, dir, state.pmedia);
  // The shutdown path must not offer a first save again in this session.
  port.writeText(FIRST_SAVE_MARK, `${part}:${join(dir, fileName)}\n`);
  const id = identifyPath(`/dev/${part}`);
  const advice = `to use it, boot with psave=${id?.label || id?.uuid || part}:${dir === "/" ? "/" : `${dir}/`}`;
  const nextBoot = judgeNextBoot(planNextBoot(root, port), part, join(dir, fileName), advice);
  return { path: made.path, partition: part, entries: made.entries, savespec, nextBoot };
}

function normalizeDir(d: string): string {
  return "/" + d.split("/").filter(Boolean).join("/");
}

/** A folder or file save, built under PATH.new and renamed when whole. */
function makeLayer(
  port: Port,
  o: FirstSaveOptions,
  fs: SaveFs,
  e2fsprogs: boolean,
  path: string,
  part: string,
  lowers: string[],
  ram: string,
): number {
  const building = `${path}.new`;
  port.remove(building);
  let stats: MergeStats;
  if (o.kind === "folder") {
    port.mkdirNew(building);
    stats = fill(port, building, ram, lowers, o.progress);
  } else {
    allocate(port, building, o.sizeMiB, part);
    const dev = o.password !== undefined ? openNewContainer(port, building, o.password, o.progress) : building;
    try {
      // LUKS2 encrypts 4 KiB sectors: the filesystem's blocks cannot be smaller (busybox's mke2fs would pick 1 KiB).
      const block = dev === building ? [] : ["-b", "4096"];
      port.run("mke2fs", !e2fsprogs ? ["-F", ...block, dev] : ["-q", "-F", "-t", fs, "-m", "0", ...block, dev]);
      const inner = `/mnt/ramstack-newsave`;
      port.mkdir(inner);
      port.mount({ fstype: fs, source: dev, target: inner, ...(dev === building ? { options: ["loop"] } : {}) });
      let unmounted = false;
      try {
        stats = fill(port, inner, ram, lowers, o.progress);
      } finally {
        unmounted = port.umount(inner);
      }
      if (!unmounted) throw new Error(`umount ${inner} failed: the new save file is still in use`);
    } finally {
      if (dev !== building) port.luksClose(NEW_MAPPER);
    }
  }
  port.sync();
  port.rename(building, path);
  port.sync();
  return stats.files + stats.dirs;
}

/**
 * SAVESPEC beside the main SFS (Puppy's format): SS_ID is the save
 * partition's label, or its UUID; SS_MEDIA only when the save's drive is
 * another kind than the boot's (PMEDIA).
 */
function writeSavespec(
  port: Port,
  bootPart: string,
  bootFs: string,
  bootDir: string,
  part: string,
  dir: string,
  pmedia: string,
): string {
  const id = identifyPath(`/dev/${part}`);
  const ssId = id?.label || id?.uuid || part;
  const lines = [`SS_ID='${ssId}'`, `SS_DIR='${dir}'`];
  const disks = listBlockDisks();
  const driveOf = (p: string): BlockDisk | undefined => disks.find((d) => d.partitions.some((x) => x.name === p));
  const drive = driveOf(part);
  const media = drive ? mediaOf(drive) : null;
  if (media && media !== pmedia && drive !== driveOf(bootPart)) lines.push(`SS_MEDIA='${media}'`);
  return withPartition(
    bootPart,
    bootFs,
    (mnt) => {
      const file = join(mnt, bootDir, "SAVESPEC");
      port.writeText(`${file}.new`, lines.join("\n") + "\n");
      port.rename(`${file}.new`, file);
      port.sync();
      return `${bootPart}:${join(bootDir, "SAVESPEC")}`;
    },
    port,
  );
}

/** Puppy's media words for a drive: usb or ata, flash (removable or solid state) or hd. */
function mediaOf(d: BlockDisk): string {
  return `${d.transport === "usb" ? "usb" : "ata"}${d.removable || !d.rotational ? "flash" : "hd"}`;
}

const NEW_MAPPER = "ramstack-newsave";
/** Room left on the partition beside a new save file. */
const SLACK_MIB = 8;

/**
 * The save file takes its whole size now (fallocate, else zeros are not
 * written and the check below is all there is): a save that fills up later
 * must never find the partition full under it.
 */
function allocate(port: Port, file: string, sizeMiB: number, part: string): void {
  const freeMiB = Math.floor(port.statfs(dirname(file)).available / 1048576);
  if (freeMiB < sizeMiB + SLACK_MIB)
    throw new Error(
      `${part} has ${freeMiB} MiB free; a ${sizeMiB} MiB save file needs ${sizeMiB + SLACK_MIB} MiB (choose a smaller --size, or a folder)`,
    );
  port.allocate(file, sizeMiB * 1048576);
}

/** Format the file as LUKS2 and open it: the save's filesystem goes inside. */
function openNewContainer(port: Port, file: string, password: string, progress?: Progress): string {
  port.modprobe(LUKS_MODULES);
  progress?.note("encrypting the save file (LUKS2)");
  port.luksFormat(file, password);
  if (!port.luksOpen(file, NEW_MAPPER, password))
    throw new Error(`the new LUKS container ${file} does not open with its own password`);
  return `/dev/mapper/${NEW_MAPPER}`;
}

function fill(port: Port, saveRoot: string, ram: string, lowers: string[], progress?: Progress): MergeStats {
  const gens = new SaveGenerations(saveRoot, port);
  const g = gens.begin();
  const stats = mergeInto(
    { ram, base: null, target: g.path, lowers, ...(progress ? { progress, entries: ramEntries(ram, port) } : {}) },
    "/tmp/ramstack-first-save.xattrs",
    port,
  );
  gens.commit(g.number);
  port.mkdir(join(saveRoot, "work"));
  return stats;
}
