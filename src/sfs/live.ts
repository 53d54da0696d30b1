// SFS loaded while the system runs (Puppy's sfs_load). overlayfs cannot add
// a layer to a mounted union, so, as Puppy does, the SFS is mounted on its
// own (read-only, under the RAM tmpfs) and each of its files is linked into
// the running root: a symlink per file, a directory only where the root has
// none. A path the root already has is left alone (the system's own file
// wins). What a load made is recorded beside its mount point, so an unload
// removes exactly that; the links point into LOADED_SFS_DIR, which is how a
// merge knows never to save them (save/excludes.ts).

import type { Progress } from "../lib/progress.js";
import { NO_PROGRESS } from "../lib/progress.js";
import { basename, join } from "../lib/path.js";
import type { Port } from "../port/port.js";

/** Where SFS loaded while running are mounted, and their records kept: in the RAM tmpfs, never in a save. */
export const LOADED_SFS_DIR = "/initrd/mnt/tmpfs/sfs";

/** What a load made, so that an unload takes back exactly that. */
export interface LoadedSfs {
  name: string;
  /** The SFS file as given (resolved). */
  file: string;
  mountpoint: string;
  /** Links made in the root, as absolute paths in the running system. */
  links: string[];
  /** Directories made in the root, parents first. */
  dirs: string[];
  /** Paths of the SFS the root already had: left as they were. */
  shadowed: number;
}

export interface LiveSfsOptions {
  /** The running system's root (a test passes a scratch tree). */
  root?: string;
  /** Where mount points and records are (default LOADED_SFS_DIR under root). */
  dir?: string;
  /** Shown as the files are linked: entries done of the SFS's inodes. */
  progress?: Progress;
}

/** An SFS's name as the commands take it: the file name without its directory. */
export function sfsName(fileOrName: string): string {
  const name = basename(fileOrName);
  if (!/^[\w.+-]+$/.test(name) || name === "." || name === "..")
    throw new Error(`'${fileOrName}' is not an SFS file name`);
  return name;
}

function paths(o: LiveSfsOptions): { root: string; dir: string } {
  const root = o.root ?? "/";
  return { root, dir: o.dir ?? join(root, LOADED_SFS_DIR) };
}

const recordPath = (dir: string, name: string): string => join(dir, `${name}.json`);

/** The SFS loaded while running, by their records. */
export function listLoaded(port: Port, o: LiveSfsOptions = {}): LoadedSfs[] {
  const { dir } = paths(o);
  if (port.stat(dir) === null) return [];
  return port
    .list(dir)
    .filter((n) => n.endsWith(".json"))
    .sort()
    .map((n) => JSON.parse(port.readText(join(dir, n)) ?? "{}") as LoadedSfs);
}

/**
 * Mount FILE and link its files into the root. Refused when an SFS of that
 * name is loaded already; on any failure what was made so far is taken back.
 */
export function loadSfs(port: Port, file: string, o: LiveSfsOptions = {}): LoadedSfs {
  const { root, dir } = paths(o);
  const name = sfsName(file);
  if (port.stat(file)?.kind !== "file") throw new Error(`${file}: no such SFS file`);
  if (port.stat(recordPath(dir, name)) !== null)
    throw new Error(`${name} is loaded already (ramstack sfs unload ${name})`);
  const source = port.realpath(file);
  const mountpoint = join(dir, name);
  port.mkdir(mountpoint);
  try {
    port.mount({ fstype: "squashfs", source, target: mountpoint, options: ["loop", "ro"] });
  } catch (e) {
    port.removeEmptyDir(mountpoint);
    throw new Error(`${file} does not mount as a squashfs: ${(e as Error).message}`);
  }
  const loaded: LoadedSfs = { name, file: source, mountpoint, links: [], dirs: [], shadowed: 0 };
  const p = o.progress ?? NO_PROGRESS;
  // A squashfs counts its inodes: the root directory and every entry below it.
  const total = Math.max(1, port.statfs(mountpoint).usedInodes - 1);
  let seen = 0;
  const counted = (): void => {
    if (++seen % 100 === 0) p.update(seen, total, `${loaded.links.length} files linked`);
  };
  try {
    linkTree(port, root, mountpoint, "", loaded, counted);
    p.end(`${loaded.links.length} files linked`);
    port.writeText(recordPath(dir, name), JSON.stringify(loaded, null, 1) + "\n");
  } catch (e) {
    takeBack(port, root, loaded);
    throw e;
  }
  return loaded;
}

/** Absolute path in the running system of `rel` (no leading slash). */
const inSystem = (rel: string): string => `/${rel}`;

function linkTree(
  port: Port,
  root: string,
  mountpoint: string,
  rel: string,
  loaded: LoadedSfs,
  counted: () => void,
): void {
  for (const name of port.list(join(mountpoint, rel)).sort()) {
    counted();
    const r = rel ? `${rel}/${name}` : name;
    const src = port.lstat(join(mountpoint, r));
    const have = port.lstat(join(root, r));
    if (src?.kind === "dir") {
      if (have === null) {
        port.mkdir(join(root, r));
        loaded.dirs.push(inSystem(r));
      } else if (have.kind !== "dir" && port.stat(join(root, r))?.kind !== "dir") {
        loaded.shadowed++;
        continue;
      }
      linkTree(port, root, mountpoint, r, loaded, counted);
    } else if (have !== null) loaded.shadowed++;
    else {
      port.symlink(join(mountpoint, r), join(root, r));
      loaded.links.push(inSystem(r));
    }
  }
}

/** Remove what a load made (links still pointing into its mount, directories left empty), then unmount. */
function takeBack(port: Port, root: string, loaded: LoadedSfs): void {
  const target = (abs: string): string => join(root, abs);
  const into = loaded.mountpoint;
  for (const l of loaded.links) {
    const t = port.readlink(target(l));
    // A link the user replaced since is theirs now.
    if (t !== null && (t === into || t.startsWith(`${into}/`))) port.remove(target(l));
  }
  for (const d of [...loaded.dirs].reverse()) port.removeEmptyDir(target(d));
  if (!port.umount(loaded.mountpoint)) port.umount(loaded.mountpoint, true);
  port.removeEmptyDir(loaded.mountpoint);
}

/** Unload an SFS loaded while running: its links and directories go, then its mount. */
export function unloadSfs(port: Port, nameOrFile: string, o: LiveSfsOptions = {}): LoadedSfs {
  const { root, dir } = paths(o);
  const name = sfsName(nameOrFile);
  const text = port.readText(recordPath(dir, name));
  if (text === undefined) throw new Error(`${name} is not loaded (ramstack sfs list)`);
  const loaded = JSON.parse(text) as LoadedSfs;
  takeBack(port, root, loaded);
  port.remove(recordPath(dir, name));
  return loaded;
}
