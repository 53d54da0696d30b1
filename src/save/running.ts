// What the saver reads of the running system: PUPSTATE and the layers of the
// root overlay, as the init left them under /initrd.

import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import type { Stats } from "node:fs";
import { join, resolve } from "node:path";
import { parseShellVars } from "../plan/shellvars.js";
import { run } from "../sys/exec.js";
import { sha256 } from "../sys/hash.js";

/** /etc/rc.d/PUPSTATE as variables; an error outside a ramstack system. */
export function readPupstate(root = "/"): Map<string, string> {
  const pupstate = join(root, "etc/rc.d/PUPSTATE");
  if (!existsSync(pupstate)) throw new Error("this is not a running ramstack system (no /etc/rc.d/PUPSTATE)");
  return parseShellVars(readFileSync(pupstate, "utf8")).vars;
}

/** The RAM layer the init left (the writable layer in PUPMODE 5, 13 and 66). */
export function ramLayer(root = "/"): string {
  return join(root, "initrd/mnt/tmpfs/pup_rw");
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

/** The root overlay's lower layers, top first, as paths under /initrd (where the init moved them). */
export function unionLowers(root = "/"): string[] {
  const line = readFileSync("/proc/mounts", "utf8").split("\n").find((l) => l.split(" ")[1] === "/" && l.split(" ")[2] === "overlay") ?? "";
  return (/lowerdir=([^,]+)/.exec(line)?.[1] ?? "").split(":").filter(Boolean).map((d) => join(root, "initrd", d));
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
  return readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .find((f) => f[0] === dev && !(f[3] ?? "").split(",").includes("ro"))?.[1];
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
