// What the saver reads of the running system: PUPSTATE and the layers of the
// root overlay, as the init left them under /initrd.

import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import type { Stats } from "node:fs";
import { join, resolve } from "node:path";
import { parseMounts, PUP_RO1, PUP_RW, saveLayerLink, saveRootOfLayer, underInitrd, unionLowerDirs } from "../plan/layout.js";
import { parseShellVars } from "../plan/shellvars.js";
import { run } from "../sys/exec.js";
import { sha256 } from "../sys/hash.js";

/** /etc/rc.d/PUPSTATE as variables; an error outside a ramstack system. */
export function readPupstate(root = "/"): Map<string, string> {
  const pupstate = join(root, "etc/rc.d/PUPSTATE");
  if (!existsSync(pupstate)) throw new Error("this is not a running ramstack system (no /etc/rc.d/PUPSTATE)");
  return parseShellVars(readFileSync(pupstate, "utf8")).vars;
}

/**
 * A layer as Puppy's scripts find it: /initrd/pup_rw or /initrd/pup_ro1 is
 * a symlink to the layer itself (the save's upper/, the RAM layer, an
 * archive's tmpfs); its target, under ROOT.
 */
export function layerOf(name: string, root = "/"): string {
  const link = join(root, underInitrd(name));
  let target: string;
  try {
    target = readlinkSync(link);
  } catch {
    throw new Error(`${underInitrd(name)} is not a link to a layer: this system was not started by ramstack's init`);
  }
  return join(root, target);
}

/** The RAM layer the init left: /initrd/pup_rw in PUPMODE 5, 13 and 66 (the writable layer). */
export function ramLayer(root = "/"): string {
  return layerOf(PUP_RW, root);
}

/** The save's root (upper/, work/, .gen/) in PUPMODE 12 or 13, from the link that names its layer. */
export function saveRootOf(pupmode: number, root = "/"): string {
  const link = saveLayerLink(pupmode);
  if (!link) throw new Error(`PUPMODE ${pupmode} has no save layer`);
  const layer = layerOf(link, root);
  const saveRoot = saveRootOfLayer(layer);
  if (!saveRoot) throw new Error(`${underInitrd(link)} points to ${layer}, not to a save's upper/`);
  return saveRoot;
}

/** One archive save at a time: the lock every archive saver takes. */
export const SAVE_LOCK = "/tmp/ramstack-save.lock";

/**
 * One save at a time into a save folder, whoever starts it (the periodic
 * saver, shutdown, the command): the lock is named after the folder's real
 * path, so saves into different folders do not wait for each other.
 */
export function saveLock(save: string): string {
  let path = resolve(save);
  try {
    path = realpathSync(path);
  } catch {
    // Not there yet: its own name will do.
  }
  return `/tmp/ramstack-save-${sha256(path).slice(0, 16)}.lock`;
}

/** Where the main SFS is, as PUPSTATE's PUPSFS says (partition,fs,path); null when it does not. */
export function mainSfs(state: Map<string, string>): { part: string; fs: string; path: string } | null {
  const [part, fs, path] = (state.get("PUPSFS") ?? "").split(",");
  return part && fs && path ? { part, fs, path } : null;
}

/**
 * The root overlay's read-only layers, top first, as paths under /initrd
 * (where the init moved them); the save in flash mode (/pup_ro1) is not one
 * of them: it is what a merge writes.
 */
export function unionLowers(root = "/"): string[] {
  return unionLowerDirs(parseMounts(readFileSync("/proc/mounts", "utf8")))
    .filter((d) => d !== PUP_RO1)
    .map((d) => join(root, underInitrd(d)));
}

export function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/** Where a partition is mounted read-write, if it is. */
function mountPointOf(dev: string): string | undefined {
  return parseMounts(readFileSync("/proc/mounts", "utf8")).find((m) => m.source === dev && !m.options.split(",").includes("ro"))?.target;
}

/** Run fn with the partition mounted read-write: where it already is, or mounted for the time of fn. */
export function withPartition<T>(part: string, fstype: string, fn: (mnt: string) => T): T {
  const mounted = mountPointOf(`/dev/${part}`);
  if (mounted) return fn(mounted);
  const mnt = `/mnt/ramstack-save-${part}`;
  mkdirSync(mnt, { recursive: true });
  run("mount", ["-t", fstype, `/dev/${part}`, mnt]);
  try {
    return fn(mnt);
  } finally {
    run("umount", [mnt], { allowFail: true });
  }
}
