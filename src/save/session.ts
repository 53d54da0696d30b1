// `ramstack save` in the running system: which save, which RAM layer and
// which layers lie below, from PUPSTATE and the root overlay; one save at a
// time (a lock); the merge written as a new generation, committed, pruned.

import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseShellVars } from "../plan/shellvars.js";
import { SaveGenerations } from "./generations.js";
import type { MergeStats } from "./merge.js";
import { mergeInto } from "./merge.js";

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

/** The flash-mode save of the running system, or why there is nothing to merge. */
export function runningTarget(root = "/"): SaveTarget | { nothing: string } {
  const pupstate = join(root, "etc/rc.d/PUPSTATE");
  if (!existsSync(pupstate)) throw new Error("this is not a running ramstack system (no /etc/rc.d/PUPSTATE)");
  const v = parseShellVars(readFileSync(pupstate, "utf8")).vars;
  const vars = { PUPMODE: v.get("PUPMODE") ?? "5", SAVE_LAYER: v.get("SAVE_LAYER") ?? "" };
  const mode = Number(vars.PUPMODE);
  if (mode === 12) return { nothing: "PUPMODE 12: the save is the writable layer, so everything is already on disk" };
  if (mode !== 13) return { nothing: `PUPMODE ${mode}: there is no save to merge into yet` };
  const initrd = join(root, "initrd");
  const save = join(initrd, vars.SAVE_LAYER || "/pup_ro1");
  const rootMount = readFileSync("/proc/mounts", "utf8").split("\n").find((l) => l.split(" ")[1] === "/" && l.split(" ")[2] === "overlay");
  const lowerdir = /lowerdir=([^,]+)/.exec(rootMount ?? "")?.[1] ?? "";
  const lowers = lowerdir
    .split(":")
    .filter((d) => d && !d.startsWith(vars.SAVE_LAYER || "/pup_ro1"))
    .map((d) => join(initrd, d));
  const bootLayer = join(initrd, "tmp/save-layer");
  const protect = existsSync(bootLayer) ? [join(save, readFileSync(bootLayer, "utf8").trim())] : [];
  return { save, ram: join(initrd, "mnt/tmpfs/pup_rw"), lowers, protect };
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
