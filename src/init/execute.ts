// Carry out a boot plan: RAM layer, SFS layers (copied to RAM when the plan
// says so), the save, the union at /pup_new, and the handover files and
// mounts that the running system finds under /initrd.

import { copyFileSync, existsSync, mkdirSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { unpackArchiveArgs } from "../save/archive.js";
import { SaveGenerations } from "../save/generations.js";
import { copyTree, readTextIfAny, removeIfAny } from "../sys/files.js";
import { isLuks } from "../sys/luks.js";
import { formatVars } from "../plan/handover.js";
import { upgradeQuestion } from "../plan/planner.js";
import { parseDistroSpecs } from "../plan/distro.js";
import type { Layer, Plan, Question } from "../plan/types.js";
import { checkSavedSpecs } from "../plan/upgrade.js";
import { DEV_SAVE, PUP_LOOP, PUP_RO1, PUP_RW, PUP_RW66, PUP_WORK, RAM_LAYER, RAM_WORK, SAVE_LAYER_RECORD, TMPFS, underInitrd, UNION_SOURCE } from "../plan/layout.js";
import type { BootLog } from "./bootlog.js";
import type { System } from "./system.js";
import { upgradeCleanup } from "./upgrade-clean.js";

export const NEW_ROOT = "/pup_new";

/** The save could not be used (corrupt, foreign, unmountable): the boot goes on in RAM without it. */
export class SaveError extends Error {}

export interface ExecuteContext {
  sys: System;
  log: BootLog;
  /** Where a partition is mounted (mounting it if needed). */
  mountOf: (partition: string) => string;
  /** The save's partition, moved to /mnt/dev_save (mounted once, as Puppy's scripts expect it). */
  saveMountOf: (partition: string) => string;
  /** The initrd's root, where initrd-resident SFS files are. */
  initrdRoot: string;
  /** Ask for a password on the console (not echoed); null when nobody answers in time. */
  askPassword: (prompt: string) => string | null;
  /** Ask a question as a menu; its default when nobody answers in time. */
  askQuestion: (q: Question) => string;
}

/** Tries at an encrypted save's password before the boot goes on without it. */
export const PASSWORD_TRIES = 3;
const SAVE_MAPPER = "savefile";

/** The file behind an SFS layer, wherever it is. */
function layerFile(ctx: ExecuteContext, l: Layer): string {
  if (l.source === "initrd") return join(ctx.initrdRoot, l.path!);
  // An ISO's files are under its loop mount, named like a partition ("iso").
  if (l.source === "partition" || l.source === "iso") return join(ctx.mountOf(l.partition!), l.path!);
  throw new Error(`${l.role}: layers from ${l.source} are not supported yet`);
}

function mountRamLayer(ctx: ExecuteContext, plan: Plan): void {
  ctx.sys.mount({ fstype: "tmpfs", source: "tmpfs", target: TMPFS, options: [`size=${plan.tmpfsPercent}%`, "mode=755"] });
  for (const d of ["pup_rw", "pup_work", "tmp"]) mkdirSync(join(TMPFS, d), { recursive: true });
}

/** What Puppy copies from each multisession folder. */
const SESSION_DIRS = ["bin", "sbin", "etc", "lib", "opt", "var", "root", "home", "usr"];

/**
 * PUPMODE 77: the disc's session folders copied into RAM, oldest first so
 * that newer sessions win. A session's aufs whiteout (.wh.NAME) removes NAME
 * from older sessions and becomes an overlay whiteout, so a file deleted
 * from the main SFS stays deleted (Puppy drops it, and the file comes back).
 */
function copySessionFolders(ctx: ExecuteContext, plan: Plan, l: Layer): string {
  const s = plan.save;
  const disc = ctx.mountOf(s.partition!);
  const dest = join(TMPFS, "pup_ro1");
  mkdirSync(dest, { recursive: true });
  const folders = [...(s.folders ?? [])].reverse();
  ctx.log.console(`Copying ${folders.length} session folder(s) from ${s.partition} to RAM`);
  for (const f of folders) {
    for (const d of SESSION_DIRS) if (existsSync(join(disc, f, d))) ctx.sys.copyTree(join(disc, f, d), dest);
    applyAufsWhiteouts(ctx, dest);
  }
  ctx.sys.bind(dest, l.mountpoint);
  return l.mountpoint;
}

function applyAufsWhiteouts(ctx: ExecuteContext, dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.name.startsWith(".wh..wh.")) {
      rmSync(full, { recursive: true, force: true });
      continue;
    }
    if (e.name.startsWith(".wh.")) {
      const target = join(dir, e.name.slice(4));
      rmSync(target, { recursive: true, force: true });
      rmSync(full, { force: true });
      ctx.sys.whiteout(target);
      continue;
    }
    if (e.isDirectory()) applyAufsWhiteouts(ctx, full);
  }
}

/**
 * PUPMODE 66: the archive save is unpacked into a tmpfs of its own at
 * /pup_rw66 (upper/ and work/), as Puppy does; the partition is not needed
 * after. Returns the layer (its upper/).
 */
function unpackArchive(ctx: ExecuteContext, plan: Plan): string {
  const s = plan.save;
  ctx.sys.mount({ fstype: "tmpfs", source: "tmpfs", target: PUP_RW66, options: [`size=${plan.tmpfsPercent}%`, "mode=755"] });
  for (const d of ["upper", "work"]) mkdirSync(join(PUP_RW66, d), { recursive: true });
  let archive = join(ctx.mountOf(s.partition!), s.path!);
  // Only the saver's .new is there when a power cut hit while it replaced the old archive.
  if (!existsSync(archive) && existsSync(`${archive}.new`)) archive = `${archive}.new`;
  ctx.log.console(`Unpacking the archive save ${s.partition}:${s.path}${archive.endsWith(".new") ? ".new" : ""} into RAM`);
  try {
    ctx.sys.tool("tar", unpackArchiveArgs(archive, join(PUP_RW66, "upper")));
  } catch (e) {
    throw new SaveError(`the archive save ${s.partition}:${s.path} cannot be unpacked: ${(e as Error).message}`);
  }
  return join(PUP_RW66, "upper");
}

function mountSfs(ctx: ExecuteContext, l: Layer): void {
  let file = layerFile(ctx, l);
  let copied = false;
  if (l.ram && l.source !== "initrd") {
    const copy = join(TMPFS, basename(file));
    ctx.log.console(`Copying ${basename(file)} to RAM`);
    try {
      ctx.sys.copyFile(file, copy);
      file = copy;
      copied = true;
    } catch (e) {
      // RAM ran out after all (the plan's estimate was wrong): read it from the disk instead.
      rmSync(copy, { force: true });
      l.ram = false;
      ctx.log.console(`Warning: ${basename(file)} could not be copied to RAM (${(e as Error).message.split("\n")[0]}): it is read from the disk`);
    }
  }
  ctx.log.console(`Loading ${basename(file)} at ${l.mountpoint}`);
  try {
    ctx.sys.mountImage(file, l.mountpoint, "squashfs", true);
  } catch (e) {
    // A copy that cannot be used would only take RAM.
    if (copied) rmSync(file, { force: true });
    throw e;
  }
}

/**
 * The save (modes 12 and 13): its partition at /mnt/dev_save, a save file's
 * filesystem at /pup_loop; returns the save's root, which holds upper/ (the
 * layer: a generation), work/ and .gen/.
 */
function mountSave(ctx: ExecuteContext, plan: Plan, l: Layer): string {
  try {
    return mountSaveLayer(ctx, plan, l);
  } catch (e) {
    throw new SaveError(`the save ${l.partition}:${l.path} cannot be used: ${(e as Error).message}`);
  }
}

function mountSaveLayer(ctx: ExecuteContext, plan: Plan, l: Layer): string {
  const save = plan.save;
  const path = join(ctx.saveMountOf(l.partition!), l.path ?? "/");
  let root = path;
  // Read-write in both modes: in 13 the save is a lower layer that a save merges the RAM layer into.
  if (save.kind === "file" && (save.encrypted || isLuks(path))) {
    const dev = openEncryptedSave(ctx, plan, `${l.partition}:${l.path}`, path);
    // Read-only until its version is known: a declined save is left exactly as it was.
    const mount = { fstype: save.fileFs ?? "ext4", source: dev, target: PUP_LOOP };
    ctx.sys.mount({ ...mount, options: ["ro", "noatime"] });
    if (plan.upgrade.status === "deferred") checkOpenedSaveVersion(ctx, plan, PUP_LOOP);
    ctx.sys.mount({ ...mount, options: ["remount", "rw", "noatime"] });
    root = PUP_LOOP;
  } else if (save.kind === "file") {
    ctx.sys.mountImage(path, PUP_LOOP, save.fileFs ?? "ext4", false);
    root = PUP_LOOP;
  }
  // A save interrupted by a power cut: drop the unfinished generation, keep the whole one.
  const gens = new SaveGenerations(root);
  for (const r of gens.recover()) ctx.log.console(`Save: ${r}`);
  // An overlay save keeps its layer in upper/ (a generation, or a plain directory) and overlay's work dir in work/.
  for (const d of ["upper", "work"]) mkdirSync(join(root, d), { recursive: true });
  const layer = realpathSync(join(root, "upper"));
  if (plan.upgrade.clean) {
    const removed = upgradeCleanup(layer);
    for (const r of removed) ctx.log.debug(`upgrade clean-up: removed ${r}`);
    ctx.log.console(`Save: cleaned up for this version (${plan.upgrade.reason}): ${removed.length} old file(s) removed`);
  }
  // The saver never prunes the generation the running union stacks.
  writeFileSync(SAVE_LAYER_RECORD, relative(root, layer) + "\n");
  ctx.log.console(`Save layer ${l.partition}:${l.path} at ${root}${gens.currentNumber() ? ` (generation ${gens.currentNumber()})` : ""}`);
  return root;
}

/**
 * An encrypted save's version is known only once it is open: the planner's
 * check and question, made here. Not accepted: the save is closed again,
 * unchanged, and the boot goes on in RAM.
 */
function checkOpenedSaveVersion(ctx: ExecuteContext, plan: Plan, mountpoint: string): void {
  // This system's DISTRO_SPECS as the planner read it (with $(uname -r) filled in).
  const current = parseDistroSpecs(readTextIfAny(join(ctx.initrdRoot, "DISTRO_SPECS")) ?? "", release()).distro?.vars ?? new Map<string, string>();
  const v = checkSavedSpecs(current, readTextIfAny(join(mountpoint, "upper/initrd/DISTRO_SPECS")));
  ctx.log.debug(`upgrade: ${v.reason}`);
  if (v.status === "ask") {
    if (ctx.askQuestion(upgradeQuestion(v.reason)) !== "yes") throw new SaveError(`${v.reason}: not accepted, so the save is left as it was`);
    plan.upgrade = { status: "accepted", reason: v.reason, clean: true };
  } else plan.upgrade = { status: v.status, reason: v.reason, clean: plan.upgrade.clean || v.status === "auto" };
}

/**
 * Ask for the password (a few tries, each with a time limit) and open the
 * container; its e2fsck, when the plan asks for one, runs on the opened
 * device. No password, or only wrong ones: the save stays closed and
 * untouched and the boot goes on in RAM.
 */
function openEncryptedSave(ctx: ExecuteContext, plan: Plan, label: string, file: string): string {
  for (let i = 1; i <= PASSWORD_TRIES; i++) {
    const pw = ctx.askPassword(`Password for the encrypted save ${label} (try ${i} of ${PASSWORD_TRIES}; Enter alone boots without the save): `);
    if (pw === null || pw === "") throw new SaveError(`no password given: the encrypted save ${label} stays closed`);
    if (ctx.sys.openLuks(file, SAVE_MAPPER, pw)) break;
    ctx.log.console("Wrong password.");
    if (i === PASSWORD_TRIES) throw new SaveError(`${PASSWORD_TRIES} wrong passwords: the encrypted save ${label} stays closed`);
  }
  ctx.log.console(`Opened the encrypted save ${label}`);
  const dev = `/dev/mapper/${SAVE_MAPPER}`;
  const step = plan.fsck.find((f) => f.target === `savefile:${label}`);
  if (step) {
    ctx.log.console(`Checking ${label} (${step.reason})`);
    fsckVerdict(ctx, plan, label, ctx.sys.fsck(dev), true);
  }
  return dev;
}

/** e2fsck's verdict (0 clean, 1-3 repaired, 4 and up not): a save it could not repair is not used. */
function fsckVerdict(ctx: ExecuteContext, plan: Plan, what: string, status: number, isSave: boolean): void {
  const result = status === 0 ? "clean" : status < 4 ? "errors repaired" : "errors NOT repaired";
  ctx.log.console(`  e2fsck: ${result} (exit ${status})`);
  if (status < 4) return;
  if (isSave) throw new SaveError(`the save ${what} has errors e2fsck could not repair`);
  plan.warnings.push(`${what}: e2fsck could not repair every error (exit ${status})`);
}

/**
 * The plan's checks (pfix=fsck, pfix=fsckp, an unclean shutdown): a partition
 * is unmounted for e2fsck and mounted again; a save file is checked in place.
 * A save file that e2fsck cannot repair is not used.
 */
export function checkFilesystems(ctx: ExecuteContext, plan: Plan, remount: (partition: string) => void): void {
  for (const step of plan.fsck) {
    const file = /^savefile:([^:]+):(.*)$/.exec(step.target);
    const what = file ? `${file[1]}:${file[2]}` : step.target;
    if (file) {
      const path = join(ctx.mountOf(file[1]!), file[2]!);
      // An encrypted save is checked once opened (its password is asked for then).
      if (isLuks(path)) continue;
      ctx.log.console(`Checking ${what} (${step.reason})`);
      fsckVerdict(ctx, plan, what, ctx.sys.fsck(path), true);
      continue;
    }
    ctx.log.console(`Checking ${what} (${step.reason})`);
    const mnt = `/mnt/${step.target}`;
    const wasMounted = ctx.sys.isMounted(mnt);
    if (wasMounted && !ctx.sys.umount(mnt)) {
      ctx.log.console(`Warning: ${step.target} is busy: not checked`);
      continue;
    }
    const status = ctx.sys.fsck(`/dev/${step.target}`);
    if (wasMounted) remount(step.target);
    fsckVerdict(ctx, plan, what, status, false);
  }
}

/** A mark that this session did not end cleanly until the shutdown removes it: the next boot checks the save. */
export function markSessionOpen(ctx: ExecuteContext, plan: Plan): void {
  const s = plan.save;
  if (!s.partition || (plan.pupmode !== 12 && plan.pupmode !== 13)) return;
  const flag = join(ctx.mountOf(s.partition), "fsckme.flg");
  writeFileSync(flag, `${s.partition},${s.fstype ?? ""},${s.kind === "file" ? (s.path ?? "") : ""}\n`);
}

/**
 * What the union was stacked from, for the hand-over: the links that name
 * the layers (Puppy's scripts read /initrd/pup_rw and /initrd/pup_ro1 as the
 * layers themselves), as initramfs paths.
 */
export interface Stacked {
  links: { name: string; target: string }[];
}

/** A symlink in the initramfs that names a layer; the union's options name the link, as Puppy's do. */
function layerLink(name: string, target: string, links: Stacked["links"]): string {
  relink(name, target);
  links.push({ name, target });
  return name;
}

/** Mount every layer, then the union at /pup_new. */
export function mountStack(ctx: ExecuteContext, plan: Plan): Stacked {
  if (plan.unionfs !== "overlay") throw new Error(`${plan.unionfs} unions are not supported yet`);
  const links: Stacked["links"] = [];
  mountRamLayer(ctx, plan);
  let upper = RAM_LAYER;
  let work = RAM_WORK;
  if (plan.save.kind === "archive") {
    upper = unpackArchive(ctx, plan);
    links.push({ name: PUP_RW, target: upper });
    work = join(PUP_RW66, "work");
  }
  const lower: string[] = [];
  for (const l of plan.layers) {
    if (l.role === "rw") {
      if (l.source === "save") {
        const root = mountSave(ctx, plan, l);
        upper = layerLink(PUP_RW, join(root, "upper"), links);
        work = layerLink(PUP_WORK, join(root, "work"), []);
      }
      continue;
    }
    if (l.role === "save") {
      lower.push(l.source === "tmpfs" ? copySessionFolders(ctx, plan, l) : layerLink(PUP_RO1, join(mountSave(ctx, plan, l), "upper"), links));
      continue;
    }
    try {
      mountSfs(ctx, l);
    } catch (e) {
      // Only the main SFS is needed to boot: a broken optional layer is left out.
      if (l.role === "puppy") throw e;
      const why = `${l.role} ${l.path ?? ""} is left out: ${(e as Error).message}`;
      ctx.log.console(`Warning: ${why}`);
      plan.warnings.push(why);
      continue;
    }
    lower.push(l.mountpoint);
  }
  // The RAM layer is the writable one unless a save or an archive's tmpfs is.
  if (!links.some((l) => l.name === PUP_RW)) links.push({ name: PUP_RW, target: RAM_LAYER });
  ctx.log.console(`Stacking ${plan.layers.map((l) => l.role).join(" > ")} with overlay`);
  ctx.sys.mount({
    fstype: "overlay",
    // Puppy's scripts find the root union by its source (grep ^unionfs /proc/mounts).
    source: UNION_SOURCE,
    target: NEW_ROOT,
    // metacopy stays off: a save must hold whole files, never metadata-only copies.
    // xino: one st_dev for every file of / (the layers' inode numbers are made unique).
    options: [`lowerdir=${lower.join(":")}`, `upperdir=${upper}`, `workdir=${work}`, "metacopy=off", "xino=on"],
  });
  return { links };
}

function writeIn(root: string, path: string, text: string): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, text);
}

/** Files and mounts the running system finds: PUPSTATE, BOOTCONFIG, /initrd/... */
export function handOver(ctx: ExecuteContext, plan: Plan, stacked: Stacked, planJson: string): void {
  const nr = NEW_ROOT;
  writeIn(nr, "etc/rc.d/PUPSTATE", formatVars(plan.pupstate));
  writeIn(nr, "etc/rc.d/BOOTCONFIG", formatVars(plan.bootconfig));
  const specs = join(ctx.initrdRoot, "DISTRO_SPECS");
  if (existsSync(specs)) {
    copyFileSync(specs, join(nr, "initrd/DISTRO_SPECS"));
    if (!existsSync(join(nr, "etc/DISTRO_SPECS"))) copyFileSync(specs, join(nr, "etc/DISTRO_SPECS"));
  }
  // The saver plans the next boot as the init would: it needs the initrd's BOOT_SPECS too.
  const bootSpecs = join(ctx.initrdRoot, "BOOT_SPECS");
  if (existsSync(bootSpecs)) copyFileSync(bootSpecs, join(nr, "initrd/BOOT_SPECS"));
  writeFileSync("/tmp/bootinit.json", planJson);

  // Unmount the partitions the running system does not need.
  const keep = new Set(plan.keepMounted);
  // The ISO's loop mount stays while an SFS is read from it.
  if (plan.layers.some((l) => l.source === "iso" && !l.ram)) keep.add("iso");
  for (const m of ctx.sys.mounts().reverse()) {
    const name = /^\/mnt\/([^/]+)$/.exec(m.target)?.[1];
    if (name && name !== "tmpfs" && `/mnt/${name}` !== DEV_SAVE && !keep.has(name)) {
      if (ctx.sys.umount(m.target)) ctx.log.debug(`unmounted ${name}: not needed after the boot`);
    }
  }

  // Every /pup_* and /mnt/* mount moves under /initrd, as in Puppy.
  const moves = ctx.sys.mounts().filter((m) => /^\/(pup_(?!new)[^/]+|mnt\/[^/]+)$/.test(m.target));
  ctx.sys.moveAll(moves.map((m) => [m.target, join(nr, "initrd", m.target)] as const));
  // Node.js stays for the running system (the saver runs on it), read-only.
  const runtime = join(ctx.initrdRoot, "runtime");
  if (existsSync(join(runtime, "bin/node"))) ctx.sys.bind(runtime, join(nr, "initrd/runtime"), { readOnly: true });
  // /initrd/pup_rw (and /initrd/pup_ro1 in flash mode) are the layers themselves, as in Puppy.
  for (const l of stacked.links) relink(join(nr, underInitrd(l.name)), underInitrd(l.target));
  // /tmp lives in RAM, never in a save.
  relink(join(nr, "tmp"), underInitrd(join(TMPFS, "tmp")));
  copyTree("/tmp", join(nr, "initrd/tmp"));
  const ramTmp = join(nr, underInitrd(TMPFS), "tmp");
  if (plan.flags.nox) writeFileSync(join(ramTmp, "bootcnt.txt"), "");
  // Puppy's flag for the running system's version-update steps.
  if (plan.upgrade.clean) writeFileSync(join(ramTmp, "version_update_flag"), "");
  if (plan.flags.xorgwizard) writeFileSync(join(ramTmp, "xwin_xorgwizard_cli"), "");
}

/** The last step before switch_root: /dev, /proc and /sys go to the new root (after pfix=rdsh's shell, which needs them). */
export function moveKernelMounts(ctx: ExecuteContext): void {
  ctx.sys.moveAll(["dev", "proc", "sys"].map((fs) => [`/${fs}`, join(NEW_ROOT, fs)] as const));
}

function relink(path: string, target: string): void {
  removeIfAny(path);
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path);
}
