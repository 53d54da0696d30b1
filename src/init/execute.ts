// The interpreter of the boot steps (ops.ts): each operation performed
// through the port (by way of System, which logs it and can unwind it), and
// an outcome recorded beside the plan, which stays as it was made: what was
// done, what fell back, what was left out, what was asked.

import { basename, dirname, join, relative } from "../lib/path.js";
import { underInitrd } from "../plan/layout.js";
import { aufsWhiteoutTarget, isAufsMeta } from "../plan/overlay.js";
import type { Plan } from "../plan/types.js";
import type { MountSpec, Port } from "../port/port.js";
import { unpackArchiveArgs } from "../save/archive.js";
import { SaveGenerations } from "../save/generations.js";
import type { BootLog } from "./bootlog.js";
import type { Op, Step } from "./ops.js";
import type { System } from "./system.js";
import { upgradeCleanup } from "./upgrade-clean.js";

/** The save could not be used (corrupt, foreign, unmountable, declined): the boot goes on in RAM without it. */
export class SaveError extends Error {}

/** Tries at an encrypted save's password before the boot goes on without it. */
export const PASSWORD_TRIES = 3;

/** What only the running machine can answer. */
export interface Hooks {
  /** A password on the console (not echoed); null when nobody answers in time. */
  password(prompt: string): string | null;
  /**
   * An encrypted save, open and readable: the plan made again with its files
   * (its version, and the question when it is another one). Not used: why.
   */
  checkUnlockedSave(): { use: true; upgrade: Plan["upgrade"] } | { use: false; reason: string };
}

/** What happened, beside the plan (bootinit.json holds both). */
export interface Outcome {
  steps: { name: string; result: "done" | "left out" | "failed"; why?: string }[];
  /** SFS copies to RAM that failed: read from the disk instead. */
  fallbacks: string[];
  /** Roles whose SFS is read from a copy in RAM. */
  inRam: string[];
  /** Questions asked on the console, and how they were answered. */
  asked: string[];
  warnings: string[];
  /** An encrypted save's version, decided once it was open. */
  upgrade: Plan["upgrade"] | null;
}

export function newOutcome(): Outcome {
  return { steps: [], fallbacks: [], inRam: [], asked: [], warnings: [], upgrade: null };
}

export interface ExecuteContext {
  sys: System;
  port: Port;
  log: BootLog;
  hooks: Hooks;
  plan: Plan;
  outcome: Outcome;
}

/** Run the steps in order; a step that fails is unwound, then left out, or the attempt stops (SaveError: boot in RAM). */
export function runSteps(ctx: ExecuteContext, steps: readonly Step[]): void {
  const skipped = new Set<string>();
  for (const step of steps) {
    const mark = ctx.sys.mark();
    ctx.log.debug(`step: ${step.name}`);
    try {
      const ops = step.ops;
      for (let i = 0; i < ops.length;) {
        // Moves in a row go in one batch (one process start on Node).
        const moves: [string, string][] = [];
        for (let o = ops[i]; o?.op === "move"; o = ops[++i]) moves.push([o.from, o.to]);
        if (moves.length) ctx.sys.moveAll(moves);
        else perform(ctx, ops[i++]!, skipped);
      }
      ctx.outcome.steps.push({ name: step.name, result: "done" });
    } catch (e) {
      const why = (e as Error).message;
      ctx.outcome.steps.push({ name: step.name, result: step.onFail === "skip" ? "left out" : "failed", why });
      if (step.onFail === "abort") throw e;
      ctx.sys.rollback(mark);
      if (step.onFail === "save")
        throw e instanceof SaveError ? e : new SaveError(`${step.name} cannot be used: ${why}`);
      // An optional layer: the rest of the boot goes on without it.
      for (const o of step.ops) if (o.op === "sfs") skipped.add(o.target);
      const w = `${step.name} is left out: ${why}`;
      ctx.log.console(`Warning: ${w}`);
      ctx.outcome.warnings.push(w);
    }
  }
}

function perform(ctx: ExecuteContext, o: Op, skipped: ReadonlySet<string>): void {
  const { sys, port, log } = ctx;
  switch (o.op) {
    case "fsck-partition": {
      log.console(`Checking ${o.partition} (${o.reason})`);
      const mnt = `/mnt/${o.partition}`;
      const wasMounted = sys.isMounted(mnt);
      if (wasMounted && !sys.umount(mnt)) {
        log.console(`Warning: ${o.partition} is busy: not checked`);
        return;
      }
      const status = sys.fsck(`/dev/${o.partition}`);
      if (wasMounted)
        sys.mount({
          fstype: fstypeOf(ctx, o.partition),
          source: `/dev/${o.partition}`,
          target: mnt,
          options: ["noatime"],
        });
      if (verdict(ctx, status) === "not repaired")
        ctx.outcome.warnings.push(`${o.partition}: e2fsck could not repair every error (exit ${status})`);
      return;
    }
    case "fsck-save-file":
      log.console(`Checking ${o.label} (${o.reason})`);
      if (verdict(ctx, sys.fsck(o.file)) === "not repaired")
        throw new SaveError(`the save ${o.label} has errors e2fsck could not repair`);
      return;
    case "remove":
      port.remove(o.path);
      return;
    case "mkdir":
      port.mkdir(o.path);
      if (o.mode !== undefined) port.chmod(o.path, o.mode);
      return;
    case "mount": {
      const spec = o.spec.fstype === "overlay" ? withoutSkipped(o.spec, skipped) : o.spec;
      sys.mount(spec);
      return;
    }
    case "move":
      sys.move(o.from, o.to);
      return;
    case "untar": {
      // Only the saver's .new is there when a power cut hit while it replaced the old archive.
      const archive =
        port.stat(o.archive) === null && port.stat(`${o.archive}.new`) !== null ? `${o.archive}.new` : o.archive;
      log.console(`Unpacking the archive save ${archive} into RAM`);
      sys.tool("tar", unpackArchiveArgs(archive, o.into));
      return;
    }
    case "open-luks":
      openEncrypted(ctx, o);
      return;
    case "check-unlocked-save": {
      const r = ctx.hooks.checkUnlockedSave();
      if (!r.use) throw new SaveError(`${r.reason}: not accepted, so the save is left as it was`);
      ctx.outcome.upgrade = r.upgrade;
      return;
    }
    case "save-generations": {
      // A save interrupted by a power cut: drop the unfinished generation, keep the whole one.
      const gens = new SaveGenerations(o.root, port);
      for (const r of gens.recover()) log.console(`Save: ${r}`);
      // An overlay save keeps its layer in upper/ (a generation, or a plain directory) and overlay's work dir in work/.
      for (const d of ["upper", "work"]) port.mkdir(join(o.root, d));
      const layer = port.realpath(join(o.root, "upper"));
      // The saver never prunes the generation the running union stacks.
      port.writeText(o.record, relative(o.root, layer) + "\n");
      log.console(`Save layer at ${o.root}${gens.currentNumber() ? ` (generation ${gens.currentNumber()})` : ""}`);
      return;
    }
    case "upgrade-cleanup": {
      const upgrade = ctx.outcome.upgrade ?? ctx.plan.upgrade;
      if (!upgrade.clean) return;
      const removed = upgradeCleanup(port, port.realpath(join(o.root, "upper")));
      for (const r of removed) log.debug(`upgrade clean-up: removed ${r}`);
      log.console(`Save: cleaned up for this version (${upgrade.reason}): ${removed.length} old file(s) removed`);
      return;
    }
    case "symlink":
      port.remove(o.path);
      port.mkdir(dirname(o.path));
      port.symlink(o.target, o.path);
      return;
    case "sfs":
      mountSfs(ctx, o);
      return;
    case "session-folders":
      copySessionFolders(ctx, o);
      return;
    case "bind":
      sys.bind(o.source, o.target, { readOnly: o.readOnly });
      return;
    case "modules-from-stack": {
      const missing = o.names.filter((m) => !sys.moduleLoaded(m));
      if (missing.length === 0) return;
      const left = sys.modprobeFrom(o.root, missing);
      const loaded = missing.filter((m) => !left.includes(m));
      if (loaded.length) log.debug(`${o.from}: loaded from the layers: ${loaded.join(", ")}`);
      if (left.length) log.console(`Warning: ${o.from}: could not load ${left.join(", ")}`);
      return;
    }
    case "write":
      if (o.when === "upgrade-clean" && !(ctx.outcome.upgrade ?? ctx.plan.upgrade).clean) return;
      port.writeText(o.path, o.text);
      return;
    case "copy-if-any":
      if (port.stat(o.from) !== null) port.copyFile(o.from, o.to);
      return;
    case "unmount-unneeded":
      unmountUnneeded(ctx, new Set(o.keep));
      return;
    case "move-under-initrd": {
      // Every /pup_* and /mnt/* mount moves under /initrd, as in Puppy.
      const moves = sys.mounts().filter((m) => /^\/(pup_(?!new)[^/]+|mnt\/[^/]+)$/.test(m.target));
      sys.moveAll(moves.map((m) => [m.target, join(o.newRoot, underInitrd(m.target))] as const));
      return;
    }
    case "copy-tree":
      copyTreeInto(port, o.from, o.into);
      return;
    case "umount-if-mounted":
      if (sys.unmountedInBackground(o.target)) {
        log.debug(`${o.target} is left to the background job that reads it: it unmounts it when done (${o.why})`);
        return;
      }
      if (sys.isMounted(o.target) && !sys.umount(o.target)) {
        // Busy (a process still reads it): detached now, it goes when its last user ends.
        if (sys.detach(o.target)) log.debug(`${o.target} is busy: detached (${o.why})`);
        else log.console(`Warning: ${o.target} is busy, so it stays in RAM (${o.why})`);
      }
      return;
    case "shell":
      sys.shell(o.message);
      return;
    case "switch-root": {
      const init = port.stat(join(o.newRoot, "sbin/init")) !== null ? "/sbin/init" : "/init";
      sys.switchRoot(o.newRoot, init);
    }
  }
}

/** The union's layers without the optional ones that were left out. */
function withoutSkipped(spec: MountSpec, skipped: ReadonlySet<string>): MountSpec {
  if (skipped.size === 0) return spec;
  const options = (spec.options ?? []).map((o) =>
    o.startsWith("lowerdir=")
      ? `lowerdir=${o
          .slice(9)
          .split(":")
          .filter((d) => !skipped.has(d))
          .join(":")}`
      : o,
  );
  return { ...spec, options };
}

function fstypeOf(ctx: ExecuteContext, partition: string): string {
  for (const d of ctx.plan.layers) if (d.partition === partition && d.fstype) return d.fstype;
  return ctx.plan.save.partition === partition && ctx.plan.save.fstype ? ctx.plan.save.fstype : "auto";
}

/** e2fsck's verdict (0 clean, 1-3 repaired, 4 and up not). */
function verdict(ctx: ExecuteContext, status: number): "clean" | "repaired" | "not repaired" {
  const v = status === 0 ? "clean" : status < 4 ? "repaired" : "not repaired";
  ctx.log.console(
    `  e2fsck: ${v === "clean" ? "clean" : v === "repaired" ? "errors repaired" : "errors NOT repaired"} (exit ${status})`,
  );
  return v;
}

/**
 * Ask for the password (a few tries, each with a time limit) and open the
 * container; its e2fsck, when the plan asks for one, runs on the opened
 * device. No password, or only wrong ones: the save stays closed and
 * untouched and the boot goes on in RAM.
 */
function openEncrypted(ctx: ExecuteContext, o: Op & { op: "open-luks" }): void {
  for (let i = 1; i <= PASSWORD_TRIES; i++) {
    const pw = ctx.hooks.password(
      `Password for the encrypted save ${o.label} (try ${i} of ${PASSWORD_TRIES}; Enter alone boots without the save): `,
    );
    if (pw === null || pw === "") {
      ctx.outcome.asked.push(`password for ${o.label}: ${pw === null ? "no answer" : "none given"} (try ${i})`);
      throw new SaveError(`no password given: the encrypted save ${o.label} stays closed`);
    }
    if (ctx.sys.openLuks(o.file, o.mapper, pw)) {
      ctx.outcome.asked.push(`password for ${o.label}: opened (try ${i})`);
      break;
    }
    ctx.log.console("Wrong password.");
    if (i === PASSWORD_TRIES) {
      ctx.outcome.asked.push(`password for ${o.label}: ${PASSWORD_TRIES} wrong`);
      throw new SaveError(`${PASSWORD_TRIES} wrong passwords: the encrypted save ${o.label} stays closed`);
    }
  }
  ctx.log.console(`Opened the encrypted save ${o.label}`);
  if (o.fsck) {
    ctx.log.console(`Checking ${o.label} (${o.fsck})`);
    if (verdict(ctx, ctx.sys.fsck(`/dev/mapper/${o.mapper}`)) === "not repaired")
      throw new SaveError(`the save ${o.label} has errors e2fsck could not repair`);
  }
}

function mountSfs(ctx: ExecuteContext, o: Op & { op: "sfs" }): void {
  const { sys, port, log } = ctx;
  let file = o.file;
  let copied = false;
  if (o.ramCopy) {
    log.console(`Copying ${basename(file)} to RAM`);
    try {
      sys.copyFile(file, o.ramCopy);
      file = o.ramCopy;
      copied = true;
      ctx.outcome.inRam.push(o.role);
    } catch (e) {
      // RAM ran out after all (the plan's estimate was wrong): read it from the disk instead.
      port.remove(o.ramCopy);
      const why = `${basename(file)} could not be copied to RAM (${(e as Error).message.split("\n")[0]}): it is read from the disk`;
      ctx.outcome.fallbacks.push(why);
      log.console(`Warning: ${why}`);
    }
  }
  log.console(`Loading ${basename(file)} at ${o.target}`);
  try {
    sys.mount({ fstype: "squashfs", source: file, target: o.target, options: ["loop", "ro", "noatime"] });
  } catch (e) {
    // A copy that cannot be used would only take RAM.
    if (copied) {
      port.remove(file);
      ctx.outcome.inRam = ctx.outcome.inRam.filter((r) => r !== o.role);
    }
    throw e;
  }
}

/** What Puppy copies from each multisession folder. */
const SESSION_DIRS = ["bin", "sbin", "etc", "lib", "opt", "var", "root", "home", "usr"];

/**
 * PUPMODE 77: the disc's session folders copied into RAM, oldest first so
 * that newer sessions win. A session's aufs whiteout (.wh.NAME) removes NAME
 * from older sessions and becomes an overlay whiteout, so a file deleted
 * from the main SFS stays deleted (Puppy drops it, and the file comes back).
 */
function copySessionFolders(ctx: ExecuteContext, o: Op & { op: "session-folders" }): void {
  ctx.port.mkdir(o.into);
  const folders = [...o.folders].reverse();
  ctx.log.console(`Copying ${folders.length} session folder(s) to RAM`);
  for (const f of folders) {
    for (const d of SESSION_DIRS)
      if (ctx.port.stat(join(o.disc, f, d)) !== null) ctx.sys.copyTree(join(o.disc, f, d), o.into);
    applyAufsWhiteouts(ctx, o.into);
  }
}

function applyAufsWhiteouts(ctx: ExecuteContext, dir: string): void {
  for (const name of ctx.port.list(dir)) {
    const full = join(dir, name);
    if (isAufsMeta(name)) {
      ctx.port.remove(full);
      continue;
    }
    const deleted = aufsWhiteoutTarget(name);
    if (deleted !== null) {
      const target = join(dir, deleted);
      ctx.port.remove(target);
      ctx.port.remove(full);
      ctx.sys.whiteout(target);
      continue;
    }
    if (ctx.port.lstat(full)?.kind === "dir") applyAufsWhiteouts(ctx, full);
  }
}

/** The partitions the running system does not need are unmounted (those the planner's reads mounted). */
function unmountUnneeded(ctx: ExecuteContext, keep: ReadonlySet<string>): void {
  for (const m of ctx.sys.mounts().reverse()) {
    const name = /^\/mnt\/([^/]+)$/.exec(m.target)?.[1];
    if (name && name !== "tmpfs" && name !== "dev_save" && !keep.has(name)) {
      if (ctx.sys.umount(m.target)) ctx.log.debug(`unmounted ${name}: not needed after the boot`);
    }
  }
}

/** Copy a tree of files, directories and symlinks into `to` (made if missing); existing files are replaced. */
export function copyTreeInto(port: Port, from: string, to: string): void {
  port.mkdir(to);
  for (const name of port.list(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const st = port.lstat(src);
    if (st?.kind === "dir") copyTreeInto(port, src, dst);
    else if (st?.kind === "symlink") {
      port.remove(dst);
      port.symlink(port.readlink(src) ?? "", dst);
    } else if (st) port.copyFile(src, dst);
  }
}
