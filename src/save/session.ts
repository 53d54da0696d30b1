// `ramstack save` in the running system: which save, which RAM layer and
// which layers lie below, from PUPSTATE and the root overlay; one save at a
// time (a lock); the merge written as a new generation, committed, pruned.

import { defaultPort } from "../port/default.js";
import { join } from "../lib/path.js";
import { pupmodeFacts, SAVE_LAYER_RECORD } from "../plan/layout.js";
import type { Port } from "../port/port.js";
import { writeArchive } from "./archive.js";
import { SaveGenerations } from "./generations.js";
import type { MergeStats } from "./merge.js";
import { estimateMerge, MERGE_RESERVE_BYTES, mergeInto, NoSpaceError, ramEntries } from "./merge.js";
import type { Progress } from "../lib/progress.js";
import { placeOf, ramLayer, readPupstate, saveRootOf, unionLowers, withPartition } from "./running.js";

export interface SaveTarget {
  /** The save's root (holds upper and .gen). */
  save: string;
  /** The RAM layer to merge. */
  ram: string;
  /** Read-only layers below the save. */
  lowers: string[];
  /** Generation directories the running union uses: never pruned. */
  protect: string[];
}

export interface SaveResult {
  generation: number;
  stats: MergeStats;
  pruned: number[];
  recovered: string[];
  seconds: number;
}

/** PUPMODE 66: the archive save as PUPSTATE names it (PUPSAVE=partition,fs,path). */
export function runningArchive(
  root = "/",
  port: Port = defaultPort(),
): { part: string; fs: string; path: string } | null {
  const state = readPupstate(root, port);
  if (!pupmodeFacts(state.pupmode).archive) return null;
  const a = placeOf(state.pupsave);
  if (!a?.path) throw new Error("PUPMODE 66, but PUPSTATE's PUPSAVE does not name the archive (partition,fs,path)");
  return a;
}

/** Write the RAM layer as the new archive (the old one stays until the new one is whole). */
export function saveArchiveSession(
  a: { part: string; fs: string; path: string },
  o: { lock: string; root?: string; progress?: Progress },
  port: Port = defaultPort(),
): { members: number; bytes: number; seconds: number } {
  return withLock(port, o.lock, () => {
    const started = port.now();
    const r = withPartition(
      a.part,
      a.fs,
      (mnt) => writeArchive(ramLayer(o.root, port), join(mnt, a.path), o.progress, port),
      port,
    );
    return { ...r, seconds: (port.now() - started) / 1000 };
  });
}

/** The running system's save root (PUPMODE 12 or 13), for listing and reverting generations. */
export function runningSaveRoot(root = "/", port: Port = defaultPort()): string | { nothing: string } {
  const mode = readPupstate(root, port).pupmode;
  const f = pupmodeFacts(mode);
  if (!f.saveIsWritable && !f.flash) return { nothing: `PUPMODE ${mode}: this session has no save` };
  return saveRootOf(mode, root, port);
}

/** The flash-mode save of the running system, or why there is nothing to merge. */
export function runningTarget(root = "/", port: Port = defaultPort()): SaveTarget | { nothing: string } {
  const mode = readPupstate(root, port).pupmode;
  const f = pupmodeFacts(mode);
  if (f.saveIsWritable)
    return { nothing: `PUPMODE ${mode}: the save is the writable layer, so everything is already on disk` };
  if (!f.flash) return { nothing: `PUPMODE ${mode}: there is no save to merge into yet` };
  const save = runningSaveRoot(root, port) as string;
  const lowers = unionLowers(root, port).filter((d) => !d.startsWith(`${save}/`));
  const record = port.readText(join(root, "initrd", SAVE_LAYER_RECORD));
  const protect = record !== undefined ? [join(save, record.trim())] : [];
  return { save, ram: ramLayer(root, port), lowers, protect };
}

/** Only one save at a time: a second one says so; a lock left by a killed save is taken over. */
export function withLock<T>(port: Port, lock: string, fn: () => T): T {
  if (!port.writeNew(lock, String(port.pid()))) {
    const owner = Number((port.readText(lock) ?? "").trim());
    if (owner > 0 && port.alive(owner)) throw new Error(`another save is running (process ${owner})`);
    port.remove(lock);
    if (!port.writeNew(lock, String(port.pid()))) throw new Error(`${lock}: another save took the lock`);
  }
  try {
    return fn();
  } finally {
    port.remove(lock);
  }
}

const MiB = (n: number): string => (n / 1048576).toFixed(1);

/** A save that cannot fit says so before anything is written (the merge also stops, should the estimate be short). */
function checkFits(t: SaveTarget, base: string | null, port: Port): void {
  const save = port.statfs(t.save);
  const free = save.available;
  // Plenty of room, without a walk: all the RAM layer's filesystem holds, and a block for every inode of both
  // (a directory of the new generation, a directory the session made).
  const ram = port.statfs(t.ram);
  if (ram.used + (ram.usedInodes + save.usedInodes) * 4096 + MERGE_RESERVE_BYTES <= free) return;
  const need = estimateMerge({ ram: t.ram, base }, port);
  if (need + MERGE_RESERVE_BYTES > free)
    throw new NoSpaceError(
      `the save would not fit: this session's changes need about ${MiB(need)} MiB and the save has ${MiB(free)} MiB free; nothing was written (make room in the save, or use a bigger save file)`,
    );
}

export function saveSession(
  t: SaveTarget,
  o: { keep: number; lock: string; progress?: Progress },
  port: Port = defaultPort(),
): SaveResult {
  return withLock(port, o.lock, () => {
    const started = port.now();
    const gens = new SaveGenerations(t.save, port);
    const recovered = gens.recover();
    checkFits(t, gens.currentPath(), port);
    const next = gens.begin();
    try {
      const stats = mergeInto(
        {
          ram: t.ram,
          base: gens.currentPath(),
          target: next.path,
          lowers: t.lowers,
          ...(o.progress ? { progress: o.progress, entries: ramEntries(t.ram, port) } : {}),
        },
        `${o.lock}.xattrs`,
        port,
      );
      gens.commit(next.number);
      const pruned = gens.prune(o.keep, t.protect);
      return { generation: next.number, stats, pruned, recovered, seconds: (port.now() - started) / 1000 };
    } catch (e) {
      // The current generation is untouched: drop the unfinished one.
      port.remove(next.path);
      throw e;
    } finally {
      port.remove(`${o.lock}.xattrs`);
    }
  });
}
