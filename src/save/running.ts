// What the saver reads of the running system: PUPSTATE and the layers of the
// root overlay, as the init left them under /initrd.

import { defaultPort } from "../port/default.js";
import { join, resolveFrom } from "../lib/path.js";
import type { Pupstate, PupstatePlace } from "../plan/handover.js";
import { parsePupstate } from "../plan/handover.js";
import { PUP_RO1, PUP_RW, saveLayerLink, saveRootOfLayer, underInitrd, unionLowerDirs } from "../plan/layout.js";
import type { Port } from "../port/port.js";
import { sha256Hex } from "../lib/sha256.js";

/** /etc/rc.d/PUPSTATE, typed; an error outside a ramstack system. */
export function readPupstate(root = "/", port: Port = defaultPort()): Pupstate {
  const text = port.readText(join(root, "etc/rc.d/PUPSTATE"));
  if (text === undefined) throw new Error("this is not a running ramstack system (no /etc/rc.d/PUPSTATE)");
  return parsePupstate(text);
}

/**
 * A layer as Puppy's scripts find it: /initrd/pup_rw or /initrd/pup_ro1 is
 * a symlink to the layer itself (the save's upper/, the RAM layer, an
 * archive's tmpfs); its target, under ROOT.
 */
export function layerOf(name: string, root = "/", port: Port = defaultPort()): string {
  const target = port.readlink(join(root, underInitrd(name)));
  if (target === null)
    throw new Error(`${underInitrd(name)} is not a link to a layer: this system was not started by ramstack's init`);
  return join(root, target);
}

/** The RAM layer the init left: /initrd/pup_rw in PUPMODE 5, 13 and 66 (the writable layer). */
export function ramLayer(root = "/", port: Port = defaultPort()): string {
  return layerOf(PUP_RW, root, port);
}

/** The save's root (upper/, work/, .gen/) in PUPMODE 12 or 13, from the link that names its layer. */
export function saveRootOf(pupmode: number, root = "/", port: Port = defaultPort()): string {
  const link = saveLayerLink(pupmode);
  if (!link) throw new Error(`PUPMODE ${pupmode} has no save layer`);
  const layer = layerOf(link, root, port);
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
export function saveLock(save: string, port: Port = defaultPort()): string {
  let path = resolveFrom(port.cwd(), save);
  try {
    path = port.realpath(path);
  } catch {
    // Not there yet: its own name will do.
  }
  return `/tmp/ramstack-save-${sha256Hex(path).slice(0, 16)}.lock`;
}

/** Where the main SFS is, as PUPSTATE's PUPSFS says (partition,fs,path); null when it does not. */
export function mainSfs(state: Pupstate): { part: string; fs: string; path: string } | null {
  return placeOf(state.pupsfs);
}

/** A PUPSTATE place (partition,fs,path) in the saver's words. */
export function placeOf(p: PupstatePlace | null): { part: string; fs: string; path: string } | null {
  return p ? { part: p.partition, fs: p.fstype, path: p.path } : null;
}

/**
 * The root overlay's read-only layers, top first, as paths under /initrd
 * (where the init moved them); the save in flash mode (/pup_ro1) is not one
 * of them: it is what a merge writes.
 */
export function unionLowers(root = "/", port: Port = defaultPort()): string[] {
  return unionLowerDirs(port.mounts())
    .filter((d) => d !== PUP_RO1)
    .map((d) => join(root, underInitrd(d)));
}

/** Where a partition is mounted read-write, if it is. */
function mountPointOf(dev: string, port: Port): string | undefined {
  return port.mounts().find((m) => m.source === dev && !m.options.split(",").includes("ro"))?.target;
}

/** Run fn with the partition mounted read-write: where it already is, or mounted for the time of fn. */
export function withPartition<T>(part: string, fstype: string, fn: (mnt: string) => T, port: Port = defaultPort()): T {
  const mounted = mountPointOf(`/dev/${part}`, port);
  if (mounted) return fn(mounted);
  const mnt = `/mnt/ramstack-save-${part}`;
  port.mkdir(mnt);
  port.mount({ fstype, source: `/dev/${part}`, target: mnt });
  try {
    return fn(mnt);
  } finally {
    port.umount(mnt);
  }
}
