// `ramstack save` in the running system: which save, which RAM layer and
// which layers lie below, from PUPSTATE and the root overlay; one save at a
// time (a lock); the merge written as a new generation, committed, pruned.

import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SaveGenerations } from "./generations.js";
import type { MergeStats } from "./merge.js";
import { mergeInto } from "./merge.js";
import { writeArchive } from "./archive.js";
import { SAVE_LAYER_RECORD } from "../plan/layout.js";
import { ramLayer, readPupstate, saveRootOf, unionLowers, withPartition } from "./running.js";

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
export function runningArchive(root = "/"): { part: string; fs: string; path: string } | null {
  const state = readPupstate(root);
  if (state.get("PUPMODE") !== "66") return null;
  const [part, fs, path] = (state.get("PUPSAVE") ?? "").split(",");
  if (!part || !fs || !path) throw new Error("PUPMODE 66, but PUPSTATE's PUPSAVE does not name the archive (partition,fs,path)");
  return { part, fs, path };
}

/** Write the RAM layer as the new archive (the old one stays until the new one is whole). */
export function saveArchiveSession(a: { part: string; fs: string; path: string }, o: { lock: string; root?: string; progress?: (s: string) => void }): { members: number; bytes: number; seconds: number } {
  return withLock(o.lock, () => {
    const started = Date.now();
    const r = withPartition(a.part, a.fs, (mnt) => writeArchive(ramLayer(o.root), join(mnt, a.path), o.progress));
    return { ...r, seconds: (Date.now() - started) / 1000 };
  });
}

/** The running system's save root (PUPMODE 12 or 13), for listing and reverting generations. */
export function runningSaveRoot(root = "/"): string | { nothing: string } {
  const state = readPupstate(root);
  const mode = state.get("PUPMODE") ?? "5";
  if (mode !== "12" && mode !== "13") return { nothing: `PUPMODE ${mode}: this session has no save` };
  return saveRootOf(Number(mode), root);
}

/** The flash-mode save of the running system, or why there is nothing to merge. */
export function runningTarget(root = "/"): SaveTarget | { nothing: string } {
  const mode = readPupstate(root).get("PUPMODE") ?? "5";
  if (mode === "12") return { nothing: "PUPMODE 12: the save is the writable layer, so everything is already on disk" };
  if (mode !== "13") return { nothing: `PUPMODE ${mode}: there is no save to merge into yet` };
  const save = runningSaveRoot(root) as string;
  const lowers = unionLowers(root).filter((d) => !d.startsWith(`${save}/`));
  const bootLayer = join(root, "initrd", SAVE_LAYER_RECORD);
  const protect = existsSync(bootLayer) ? [join(save, readFileSync(bootLayer, "utf8").trim())] : [];
  return { save, ram: ramLayer(root), lowers, protect };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Only one save at a time: a second one says so; a lock left by a killed save is taken over. */
function withLock<T>(lock: string, fn: () => T): T {
  let fd: number;
  try {
    fd = openSync(lock, "wx");
  } catch {
    const owner = Number(readFileSync(lock, "utf8").trim());
    if (owner > 0 && alive(owner)) throw new Error(`another save is running (process ${owner})`);
    rmSync(lock, { force: true });
    fd = openSync(lock, "wx");
  }
  writeSync(fd, String(process.pid));
  closeSync(fd);
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

export function saveSession(t: SaveTarget, o: { keep: number; lock: string; progress?: (s: string) => void }): SaveResult {
  return withLock(o.lock, () => {
    const started = Date.now();
    const gens = new SaveGenerations(t.save);
    const recovered = gens.recover();
    const next = gens.begin();
    try {
      const stats = mergeInto({ ram: t.ram, base: gens.currentPath(), target: next.path, lowers: t.lowers, ...(o.progress ? { progress: o.progress } : {}) }, `${o.lock}.xattrs`);
      gens.commit(next.number);
      const pruned = gens.prune(o.keep, t.protect);
      return { generation: next.number, stats, pruned, recovered, seconds: (Date.now() - started) / 1000 };
    } catch (e) {
      // The current generation is untouched: drop the unfinished one.
      rmSync(next.path, { recursive: true, force: true });
      throw e;
    } finally {
      rmSync(`${o.lock}.xattrs`, { force: true });
    }
  });
}
