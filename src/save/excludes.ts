// What a save leaves out: Puppy's lists for the overlay merge (snapmergepuppy),
// so a ramstack save holds what a Puppy save would, and the links of an SFS
// loaded while running.

import { join } from "../lib/path.js";
import type { FileKind, Port } from "../port/port.js";
import { LOADED_SFS_DIR } from "../sfs/live.js";

/** Top-level and nested directories never saved. */
const EXCLUDED_DIRS = [
  "mnt",
  "media",
  "initrd",
  "proc",
  "sys",
  "tmp",
  "root/tmp",
  "dev",
  "var/tmp",
  "var/lock",
  "var/run",
  "run",
  "root/ftpd",
];

/** Name patterns never saved (downloads in progress, thumbnail caches, X markers). */
const EXCLUDED_NAMES = [/\.XLOADED$/, /\.thumbnails/, /\.part$/, /\.crdownload$/, /^\.wh\./];

/** Is a path (relative to the layer root, no leading slash) left out of saves? */
export function isExcluded(rel: string): boolean {
  if (EXCLUDED_DIRS.some((d) => rel === d || rel.startsWith(`${d}/`))) return true;
  // SFS files and mount points of the stack at the top level.
  if (!rel.includes("/") && (/^pup_/.test(rel) || /zdrv_/.test(rel))) return true;
  const name = rel.slice(rel.lastIndexOf("/") + 1);
  return EXCLUDED_NAMES.some((re) => re.test(name));
}

/** A link `ramstack sfs load` made: it points into a loaded SFS, and goes with it (never into a save). */
export function isLoadedSfsLink(target: string | null): boolean {
  return target !== null && target.startsWith(`${LOADED_SFS_DIR}/`);
}

/**
 * An entry of a RAM layer that every kind of save (merge, archive, the room
 * check) leaves out: Puppy's exclusions (or the caller's), and the links of
 * an SFS loaded while running. `kind` is the entry's own (readDir's).
 */
export function leftOutOfSave(
  port: Port,
  layer: string,
  rel: string,
  kind: FileKind,
  exclude: (rel: string) => boolean = isExcluded,
): boolean {
  return exclude(rel) || (kind === "symlink" && isLoadedSfsLink(port.readlink(join(layer, rel))));
}
