// The shutdown path: in flash mode, merge the session (asking first, as
// Puppy does, unless told not to ask); without a save, offer the first one
// (or make it as an AUTOSAVE file beside the main SFS says). A question not
// answered in time means "do not save", never a lost save.

import { listLoaded, unloadSfs } from "../sfs/live.js";
import { defaultPort } from "../port/default.js";
import { dirname, join } from "../lib/path.js";
import type { Port } from "../port/port.js";
import type { FirstSaveOptions } from "./first.js";
import { tokenizeCmdline } from "../plan/cmdline.js";
import { listBlockDisks } from "../sys/blockdevs.js";
import type { SaveFs } from "./first.js";
import { ARCHIVE_FS, LINUX_FS } from "../plan/filesystems.js";
import { FIRST_SAVE_MARK, firstSave, fullMke2fs, saveTargetOf, WRITABLE_FS } from "./first.js";
import { identifyPath } from "../sys/blkid.js";
import { eventManagerVars, saveInterval } from "./periodic.js";
import { mainSfs, readPupstate, saveLock, SAVE_LOCK } from "./running.js";
import { runningArchive, runningTarget, saveArchiveSession, saveSession } from "./session.js";
import type { Progress } from "../lib/progress.js";
import { lineProgress, progress } from "../lib/progress.js";

export interface ShutdownOptions {
  /** Ask on the console; returns the answer, or null when the time ran out. */
  ask: (question: string, timeoutSec: number, o?: { silent?: boolean }) => string | null;
  say: (line: string) => void;
  root?: string;
  port?: Port;
}

/** Puppy's /etc/eventmanager: ASKTOSAVE, RAMSAVEINTERVAL; ramstack adds SAVE_TIMEOUT (seconds). */
function eventManager(root: string, port: Port): { ask: boolean; timeout: number } {
  const v = eventManagerVars(root, port);
  const ask = v.get("ASKTOSAVE") !== "false" && !(saveInterval(v) > 0);
  const timeout = Number(v.get("SAVE_TIMEOUT") ?? 60);
  return { ask, timeout: Number.isFinite(timeout) && timeout > 0 ? timeout : 60 };
}

/** AUTOSAVE beside the main SFS: "folder", or "file [MiB]"; the autosave= boot parameter says the same ("file:MiB"). */
export function parseAutosave(text: string): Pick<FirstSaveOptions, "kind" | "sizeMiB"> | null {
  const m = /^\s*(folder|file)(?:[\s:]+(\d+))?\s*$/m.exec(text);
  if (!m) return null;
  return { kind: m[1] as "folder" | "file", sizeMiB: Number(m[2] ?? 512) };
}

/** The autosave= boot parameter: folder, file[:MiB], or no (never ask, never save). */
function autosaveParam(port: Port, cmdline = "/proc/cmdline"): string | undefined {
  const text = port.readText(cmdline) ?? "";
  return tokenizeCmdline(text).find((w) => w.name === "autosave")?.value ?? undefined;
}

/**
 * Where the init looks for a save, and its filesystem: the place psave,
 * SAVEMARK or SAVESPEC gave (PSAVEPART), else the main SFS's partition;
 * empty when PUPSTATE says neither.
 */
function savePartition(root: string, port: Port): { part: string; fs: string } {
  const state = readPupstate(root, port);
  const target = saveTargetOf(state);
  const sfs = mainSfs(state);
  if (!target) return { part: "", fs: "" };
  return {
    part: target.part,
    fs: target.part === sfs?.part ? sfs.fs : (identifyPath(`/dev/${target.part}`)?.fstype ?? ""),
  };
}

/**
 * Which partition, and its filesystem: where the init looks by default;
 * others that can hold this kind of save (a folder needs a Linux
 * filesystem) are offered. Another partition's name is returned with `other`.
 */
function askPartition(
  o: ShutdownOptions,
  timeout: number,
  root: string,
  folder: boolean,
  port: Port,
): { part: string; fs: string; other: boolean } {
  const boot = { ...savePartition(root, port), other: false };
  const fits = (fs: string): boolean =>
    folder ? LINUX_FS.includes(fs) || ARCHIVE_FS.includes(fs) : WRITABLE_FS.includes(fs);
  const parts = listBlockDisks()
    .flatMap((d) => d.partitions)
    .filter((p) => p.id && fits(p.id.fstype));
  if (parts.length <= 1) return boot;
  const names = parts.map((p) => `${p.name} (${p.id!.fstype}${p.id!.label ? ` ${p.id!.label}` : ""})`);
  const a = o.ask(`On which partition? ${names.join(", ")} [${boot.part}]: `, timeout);
  const name = a?.trim().split(/\s/)[0];
  if (!name || name === boot.part) return boot;
  const chosen = parts.find((p) => p.name === name);
  if (!chosen) {
    o.say(`${name} is not one of them: saving on ${boot.part}.`);
    return boot;
  }
  return { part: chosen.name, fs: chosen.id!.fstype, other: true };
}

function autosaveFile(root: string, port: Port): string | undefined {
  const sfs = mainSfs(readPupstate(root, port));
  if (!sfs) return undefined;
  // The boot partition is mounted under /initrd/mnt when the system kept it.
  for (const base of [join(root, "initrd/mnt", sfs.part), join(root, "initrd/mnt/dev_save")]) {
    const text = port.readText(join(base, dirname(sfs.path), "AUTOSAVE"));
    if (text !== undefined) return text;
  }
  return undefined;
}

/** The dialog's answers (a letter or the word) and the save each makes. */
const DIALOG_KINDS = new Map<string, "folder" | "file" | "encrypted">([
  ["f", "folder"],
  ["folder", "folder"],
  ["i", "file"],
  ["file", "file"],
  ["e", "encrypted"],
  ["encrypted", "encrypted"],
]);

/** A password typed twice, not echoed; undefined when none is given or they never match. */
function askNewPassword(o: ShutdownOptions, timeout: number): string | undefined {
  for (let i = 0; i < 3; i++) {
    const first = o.ask("Password for the encrypted save (Enter alone: do not save): ", timeout, { silent: true });
    if (!first) return undefined;
    if (o.ask("The same password again: ", timeout, { silent: true }) === first) return first;
    o.say("The passwords differ.");
  }
  return undefined;
}

export function shutdownSave(o: ShutdownOptions): number {
  const root = o.root ?? "/";
  const port = o.port ?? defaultPort();
  // An SFS loaded while running goes first: in PUPMODE 12 its links are in the save itself.
  for (const l of listLoaded(port, { root }))
    try {
      unloadSfs(port, l.name, { root });
    } catch (e) {
      o.say(`Warning: ${l.name} could not be unloaded: ${(e as Error).message}`);
    }
  try {
    return shutdownSaveSteps(o, root, port);
  } finally {
    // A clean shutdown: the next boot need not check the save (the init wrote this mark).
    port.remove(join(root, "initrd/mnt/dev_save/fsckme.flg"));
  }
}

/** The shutdown question (unless /etc/eventmanager says not to ask): no answer in time means no save. */
function confirmSave(o: ShutdownOptions, em: { ask: boolean; timeout: number }, where: string): boolean {
  if (!em.ask) return true;
  const a = o.ask(`Save this session to ${where}? [Y/n] (${em.timeout} s, then not saved) `, em.timeout);
  if (a !== null && !/^n/i.test(a)) return true;
  o.say(a === null ? "No answer: the session is not saved." : "The session is not saved.");
  return false;
}

/** The save's progress among the shutdown's messages: a line at each tenth. */
const saying = (o: ShutdownOptions): Progress => progress(lineProgress(o.say), "saving");

function shutdownSaveSteps(o: ShutdownOptions, root: string, port: Port): number {
  const target = runningTarget(root, port);
  const em = eventManager(root, port);
  if (!("nothing" in target)) {
    if (!confirmSave(o, em, target.save)) return 0;
    const r = saveSession(target, { keep: 3, lock: saveLock(target.save, port), progress: saying(o) }, port);
    o.say(`Saved generation ${r.generation}: ${r.stats.files} files written, ${r.stats.deleted} deleted.`);
    return 0;
  }
  const archive = runningArchive(root, port);
  if (archive) {
    if (!confirmSave(o, em, `${archive.part}:${archive.path}`)) return 0;
    const r = saveArchiveSession(archive, { lock: SAVE_LOCK, root, progress: saying(o) }, port);
    o.say(`Saved the session in ${archive.part}:${archive.path} (${r.members} files and directories).`);
    return 0;
  }
  // A PUPSTATE that names no PUPMODE offers no first save.
  const state = readPupstate(root, port);
  if (!state.vars.has("PUPMODE") || state.pupmode !== 5) return 0;
  const made = port.readText(join(root, FIRST_SAVE_MARK));
  if (made !== undefined) {
    o.say(`This session made its first save earlier (${made.trim()}); changes made after it are not in it.`);
    return 0;
  }
  const param = autosaveParam(port);
  if (param === "no") {
    o.say("autosave=no: the session is not saved.");
    return 0;
  }
  const auto = param ?? autosaveFile(root, port);
  let choice: Pick<FirstSaveOptions, "kind" | "sizeMiB" | "fs" | "name"> | null =
    auto === undefined ? null : parseAutosave(auto);
  if (auto !== undefined && !choice)
    o.say(
      `${param ? "autosave=" : "AUTOSAVE beside the main SFS "}should say 'folder' or 'file [MiB]'; asking instead.`,
    );
  let password: string | undefined;
  let where = savePartition(root, port);
  let partition: string | undefined;
  if (!choice) {
    const a = o.ask(
      `This session has no save. Save it in a [f]older, a f[i]le, an [e]ncrypted file, or [n]ot at all? (${em.timeout} s, then not saved) `,
      em.timeout,
    );
    const kind = DIALOG_KINDS.get(a?.trim().toLowerCase() ?? "");
    if (kind === undefined) {
      o.say(a === null ? "No answer: the session is not saved." : "The session is not saved.");
      return 0;
    }
    const chosen = askPartition(o, em.timeout, root, kind === "folder", port);
    where = chosen;
    if (chosen.other) partition = chosen.part;
    if (kind === "encrypted") {
      password = askNewPassword(o, em.timeout);
      if (password === undefined) {
        o.say("No password: the session is not saved.");
        return 0;
      }
    }
    let size = 512;
    let fs: SaveFs | undefined;
    if (kind !== "folder") {
      const s = o.ask("Size of the save file in MiB [512]: ", em.timeout);
      if (s && /^\d+$/.test(s.trim())) size = Number(s.trim());
      // busybox's mke2fs makes ext2 only: the question is asked where there is a choice.
      if (fullMke2fs(port)) {
        const f = o.ask("Filesystem inside the file: ext2, ext3 or ext4 [ext4]: ", em.timeout)?.trim();
        if (f === "ext2" || f === "ext3" || f === "ext4") fs = f;
      }
    }
    const n = o
      .ask("A name for the save, to tell it from others (optional; letters, digits, . + - _): ", em.timeout)
      ?.trim();
    const name = n && /^[\w.+-]+$/.test(n) ? n : undefined;
    if (n && !name) o.say(`'${n}' is not a usable name: the save gets none.`);
    choice = {
      kind: kind === "folder" ? "folder" : "file",
      sizeMiB: size,
      ...(fs ? { fs } : {}),
      ...(name ? { name } : {}),
    };
  }
  // On FAT or exFAT a session is kept as an archive (PUPMODE 66), as Puppy does.
  if (choice.kind === "folder" && ARCHIVE_FS.includes(where.fs)) choice = { ...choice, kind: "archive" };
  const r = firstSave(
    {
      ...choice,
      ...(password !== undefined ? { password } : {}),
      ...(partition ? { partition } : {}),
      progress: saying(o),
    },
    root,
    port,
  );
  o.say(`Saved the session in ${r.path}; ${r.nextBoot.says}.`);
  if (r.savespec) o.say(`Wrote ${r.savespec}: the init finds the save through it.`);
  return 0;
}
