// The merge of a RAM layer into a save, written as a new generation: the
// current generation is hard-linked into a fresh directory (cheap, and the
// old generation keeps its files), then every change of the RAM layer is
// applied there. A changed file is written to a temporary name and renamed,
// so it gets a new inode and the old generation is never touched. Nothing
// is visible to the next boot until the generation is committed.

import { defaultPort } from "../port/default.js";
import { join } from "../lib/path.js";
import { isWhiteoutDevice } from "../plan/overlay.js";
import type { FullStat, Port } from "../port/port.js";
import { leftOutOfSave } from "./excludes.js";
import { step } from "./failpoint.js";
import type { Progress } from "../lib/progress.js";
import type { XattrEntry } from "./xattrs.js";
import { dumpXattrs, makeWhiteout, OPAQUE, OPAQUE_YES, restoreXattrs } from "./xattrs.js";

export interface MergeOptions {
  /** The RAM layer: the overlay's upper directory in flash mode. */
  ram: string;
  /** The current generation, or null for a first save. */
  base: string | null;
  /** The new generation's directory (must not exist). */
  target: string;
  /** The read-only layers under the save: a deletion needs a whiteout only where one of them has the path. */
  lowers: readonly string[];
  /** Left out of the save (default: Puppy's exclusion list). */
  exclude?: (rel: string) => boolean;
  /** Bytes to keep free on the save's filesystem (Puppy keeps 200 KiB). */
  reserveBytes?: number;
  /** Shown as the merge goes: entries seen of about ENTRIES, files and MiB written. */
  progress?: Progress;
  /** About how many entries the RAM layer holds (its filesystem's inodes in use), for a percentage. */
  entries?: number;
}

export interface MergeStats {
  files: number;
  unchanged: number;
  symlinks: number;
  dirs: number;
  hardlinks: number;
  deleted: number;
  whiteouts: number;
  skipped: number;
  bytes: number;
}

export class NoSpaceError extends Error {}

/** Kept free on the save's filesystem, as Puppy keeps it. */
export const MERGE_RESERVE_BYTES = 200 * 1024;

const TMP_PREFIX = ".ramstack-tmp-";

/** An overlay whiteout: a character device 0/0. */
export const isWhiteout = (st: FullStat): boolean => isWhiteoutDevice(st.kind === "char", st.rdevMajor, st.rdevMinor);

/** How far a time set through a double (Node.js sets times in seconds) may land from the original. */
const TIME_SLACK_NS = 2000n;

function lstatOf(port: Port, p: string): FullStat {
  const st = port.lstatFull(p);
  if (!st) throw new Error(`lstat ${p}: no such file or directory`);
  return st;
}

/** A file the save holds already: same size, owner and mode, and the time this saver would have set. */
function unchanged(st: FullStat, saved: FullStat | null): boolean {
  if (saved?.kind !== "file") return false;
  const d = saved.mtimeNs - st.mtimeNs;
  return (
    saved.size === st.size &&
    saved.mode === st.mode &&
    saved.uid === st.uid &&
    saved.gid === st.gid &&
    d > -TIME_SLACK_NS &&
    d < TIME_SLACK_NS
  );
}

function setMeta(port: Port, path: string, st: FullStat, src: string): void {
  step();
  port.lchown(path, st.uid, st.gid);
  if (st.kind !== "symlink") port.chmod(path, st.mode & 0o7777);
  const t = lstatOf(port, src);
  step();
  port.lutimes(path, t.atimeNs, t.mtimeNs);
}

/** Hard-link a generation into a new directory; directories are new, with the same owner, mode and times. */
function linkTree(port: Port, src: string, dest: string): void {
  const st = lstatOf(port, src);
  step();
  port.mkdirNew(dest);
  for (const e of port.readDir(src)) {
    const s = join(src, e.name);
    step();
    if (e.kind === "dir") linkTree(port, s, join(dest, e.name));
    else port.link(s, join(dest, e.name));
  }
  setMeta(port, dest, st, src);
}

class Merger {
  readonly stats: MergeStats = {
    files: 0,
    unchanged: 0,
    symlinks: 0,
    dirs: 0,
    hardlinks: 0,
    deleted: 0,
    whiteouts: 0,
    skipped: 0,
    bytes: 0,
  };
  /** Files with several links in the RAM layer: inode -> path written in the target. */
  private readonly inodes = new Map<string, string>();
  /** Paths whose attributes come from the RAM layer. */
  readonly written = new Set<string>();
  private free: number;
  private opaque = new Set<string>();
  private seen = 0;

  constructor(
    private readonly o: MergeOptions,
    private readonly port: Port,
  ) {
    this.free = this.measureFree();
  }

  private measureFree(): number {
    return this.port.statfs(this.o.target).available;
  }

  private need(bytes: number): void {
    const reserve = this.o.reserveBytes ?? MERGE_RESERVE_BYTES;
    if (bytes + reserve <= this.free) {
      this.free -= bytes;
      return;
    }
    this.free = this.measureFree();
    if (bytes + reserve > this.free)
      throw new NoSpaceError(`the save is full: ${bytes} bytes more do not fit (${this.free} free)`);
    this.free -= bytes;
  }

  run(xattrs: readonly XattrEntry[]): void {
    for (const e of xattrs) if (e.attrs.get(OPAQUE) === OPAQUE_YES) this.opaque.add(e.path.replace(/^\.\/?/, ""));
    this.dir("");
  }

  private inLowers(rel: string): boolean {
    return this.o.lowers.some((l) => this.port.lstat(join(l, rel)) !== null);
  }

  private dir(rel: string): void {
    const src = join(this.o.ram, rel);
    for (const { name, kind } of this.port.readDir(src)) {
      const r = rel ? `${rel}/${name}` : name;
      if (++this.seen % 200 === 0) this.show();
      if (leftOutOfSave(this.port, this.o.ram, r, kind, this.o.exclude)) {
        this.stats.skipped++;
        continue;
      }
      const s = join(src, name);
      const st = lstatOf(this.port, s);
      const t = join(this.o.target, r);
      const tl = this.port.lstatFull(t);
      if (isWhiteout(st)) {
        if (tl && isWhiteout(tl)) continue;
        if (tl) {
          step();
          this.port.remove(t);
          this.stats.deleted++;
        }
        if (this.inLowers(r)) {
          step();
          makeWhiteout(this.port, t);
          this.stats.whiteouts++;
        }
      } else if (st.kind === "dir") {
        step();
        if (tl && tl.kind !== "dir") this.port.remove(t);
        step();
        if (!tl || tl.kind !== "dir") this.port.mkdirNew(t);
        else if (this.opaque.has(r)) {
          // An opaque directory hides everything below it: keep only what the RAM layer has.
          const keep = new Set(this.port.readDir(s).map((e) => e.name));
          for (const { name: n } of this.port.readDir(t)) {
            step();
            if (!keep.has(n)) this.port.remove(join(t, n));
          }
        }
        this.stats.dirs++;
        this.written.add(r);
        this.dir(r);
        setMeta(this.port, t, st, s);
      } else if (st.kind === "symlink") {
        const tmp = this.tmpName(r);
        const target = this.port.readlink(s);
        if (target === null) throw new Error(`readlink ${s} failed`);
        step();
        this.port.symlink(target, tmp);
        this.replace(tmp, t, tl);
        setMeta(this.port, t, st, s);
        this.stats.symlinks++;
      } else if (st.kind === "file") {
        this.file(s, st, r, t, tl);
      } else {
        // Sockets, FIFOs and devices other than whiteouts belong to the running system only.
        this.stats.skipped++;
      }
    }
  }

  private file(s: string, st: FullStat, r: string, t: string, tl: FullStat | null): void {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? this.inodes.get(key) : undefined;
    if (first !== undefined) {
      // Already the same file (rename between two links of one inode would do nothing).
      if (tl && tl.ino === lstatOf(this.port, join(this.o.target, first)).ino) return;
      const tmp = this.tmpName(r);
      step();
      this.port.link(join(this.o.target, first), tmp);
      this.replace(tmp, t, tl);
      this.stats.hardlinks++;
      return;
    }
    if (st.nlink > 1) this.inodes.set(key, r);
    if (unchanged(st, tl)) {
      this.stats.unchanged++;
      return;
    }
    this.need(st.size);
    const tmp = this.tmpName(r);
    step();
    this.port.copyFile(s, tmp);
    setMeta(this.port, tmp, st, s);
    this.replace(tmp, t, tl);
    this.written.add(r);
    this.stats.files++;
    this.stats.bytes += st.size;
  }

  /** Where the merge is: a percentage of the RAM layer's entries when their number is known. */
  show(): void {
    const p = this.o.progress;
    if (!p) return;
    const detail = `${this.stats.files} files, ${(this.stats.bytes / 1048576).toFixed(1)} MiB`;
    const total = this.o.entries;
    if (total) p.update(Math.min(this.seen, total), total, detail);
    else if (this.seen % 5000 === 0) p.note(detail);
  }

  private tmpName(r: string): string {
    const slash = r.lastIndexOf("/");
    return join(this.o.target, r.slice(0, slash + 1) + TMP_PREFIX + r.slice(slash + 1));
  }

  /** Rename a new entry into place; a directory in the way is removed first. */
  private replace(tmp: string, t: string, tl: FullStat | null): void {
    step();
    if (tl?.kind === "dir") this.port.remove(t);
    step();
    this.port.rename(tmp, t);
  }
}

/** Write a new generation: the base hard-linked, the RAM layer's changes applied, attributes copied. */
/** A filesystem block: what a new directory, or the tail of a file, takes at least. */
const BLOCK = 4096;

/**
 * About how many bytes a merge of `ram` onto `base` would take in the save,
 * by the merge's own rules (what it leaves out, what it finds unchanged,
 * hard links written once), each file rounded up to a block, plus the new
 * generation's directories (one block each, as many as the base has and the
 * session adds). Files whose data the base already holds cost nothing.
 */
export function estimateMerge(
  o: { ram: string; base: string | null; exclude?: (rel: string) => boolean },
  port: Port = defaultPort(),
): number {
  let bytes = 0;
  const inodes = new Set<string>();
  const walk = (rel: string): void => {
    for (const { name, kind } of port.readDir(join(o.ram, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (leftOutOfSave(port, o.ram, r, kind, o.exclude)) continue;
      const st = lstatOf(port, join(o.ram, r));
      const b = o.base ? port.lstatFull(join(o.base, r)) : null;
      if (st.kind === "dir") {
        if (b?.kind !== "dir") bytes += BLOCK;
        walk(r);
        continue;
      }
      if (st.kind !== "file") continue;
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (inodes.has(key)) continue;
        inodes.add(key);
      }
      if (!unchanged(st, b)) bytes += Math.ceil(st.size / BLOCK) * BLOCK;
    }
  };
  walk("");
  const dirs = (dir: string): number =>
    port
      .readDir(dir)
      .filter((e) => e.kind === "dir")
      .reduce((n, e) => n + 1 + dirs(join(dir, e.name)), 0);
  if (o.base) bytes += (1 + dirs(o.base)) * BLOCK;
  return bytes;
}

/** About how many entries a RAM layer holds: its filesystem's inodes in use (a tmpfs of its own when running). */
export function ramEntries(ram: string, port: Port): number {
  return port.statfs(ram).usedInodes;
}

export function mergeInto(o: MergeOptions, scratchFile: string, port: Port = defaultPort()): MergeStats {
  if (o.base) {
    linkTree(port, o.base, o.target);
    // Directories are new inodes: give them the base's attributes (opaque marks among them).
    // Unchanged files stay links to the base's: they are never written in place.
    const dirs = dumpXattrs(port, o.base).filter((e) => port.lstat(join(o.target, e.path))?.kind === "dir");
    step();
    restoreXattrs(port, o.target, dirs, scratchFile);
  } else {
    step();
    port.mkdirNew(o.target);
    setMeta(port, o.target, lstatOf(port, o.ram), o.ram);
  }
  const ramXattrs = dumpXattrs(port, o.ram);
  const m = new Merger(o, port);
  m.run(ramXattrs);
  o.progress?.end(`${m.stats.files} files, ${(m.stats.bytes / 1048576).toFixed(1)} MiB written`);
  // Only the overlay's opaque mark is carried among its private attributes.
  const carry = ramXattrs
    .filter((e) => m.written.has(e.path.replace(/^\.\/?/, "")))
    .map((e) => ({
      path: e.path,
      attrs: new Map([...e.attrs].filter(([k]) => !k.startsWith("trusted.overlay.") || k === OPAQUE)),
    }));
  step();
  restoreXattrs(port, o.target, carry, scratchFile);
  return m.stats;
}
