// `ramstack save`: merge the RAM layer into the save (flash mode), list the
// save's generations, or go back to one.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { SaveFs } from "../save/first.js";
import { firstSave } from "../save/first.js";
import { SaveGenerations } from "../save/generations.js";
import { parseInterval, runPeriodic } from "../save/periodic.js";
import { shutdownSave } from "../save/shutdown.js";
import { askOnConsole } from "../sys/console.js";
import { saveLock, SAVE_LOCK } from "../save/running.js";
import type { SaveTarget } from "../save/session.js";
import { runningArchive, runningSaveRoot, runningTarget, saveArchiveSession, saveSession } from "../save/session.js";
import type { OptionDef } from "./args.js";
import { oneOf, optionsHelp, parseArgs, UsageError, wholeNumber } from "./args.js";

const OPTIONS: OptionDef[] = [
  { name: "new", value: "KIND", help: "first save of a session without one: folder, file or archive (FAT/exFAT)" },
  { name: "partition", value: "PART", help: "with --new: the partition to save on (default: PSAVEPART, else the main SFS's; elsewhere a SAVESPEC beside the main SFS points to it)" },
  { name: "dir", value: "DIR", help: "with --new: the directory on that partition (default: PSAVEDIR, else the main SFS's, or /)" },
  { name: "size", value: "MiB", help: "with --new file: the save file's size (default 512)" },
  { name: "fs", value: "FS", help: "with --new file: ext2, ext3 or ext4 (default ext4, or ext2 with busybox's mke2fs)" },
  { name: "name", value: "NAME", help: "with --new: name the save PREFIXsave-NAME" },
  { name: "encrypt", help: "with --new file: a LUKS2 save file; the password is asked twice on the terminal, or read as the first line of stdin when it is not a terminal" },
  { name: "periodic", help: "keep saving every RAMSAVEINTERVAL minutes (/etc/eventmanager) in PUPMODE 13 and 66; what the system starts at boot when it is set" },
  { name: "every", value: "TIME", help: "with --periodic: this interval instead (90s, 30m, 2h; a bare number is minutes)" },
  { name: "shutdown", help: "what poweroff and reboot run: ask (or AUTOSAVE / /etc/eventmanager decide), then save" },
  { name: "list", help: "list the save's generations" },
  { name: "revert", value: "N", help: "make generation N current again (from the next boot)" },
  { name: "keep", value: "N", help: "older generations to keep after a save (default 3)" },
  { name: "save-dir", value: "DIR", help: "the save's root (default: the running system's save)" },
  { name: "ram", value: "DIR", help: "with --save-dir: the RAM layer to merge" },
  { name: "lower", value: "DIR", repeat: true, help: "with --save-dir: a read-only layer under the save" },
  { name: "json", help: "print the result as JSON" },
  { name: "help", help: "show this help" },
];

export const SAVE_HELP = `Usage: ramstack save [--list | --revert N] [--keep N] [--json]
       ramstack save --periodic [--every TIME]
       ramstack save --new folder|file|archive [--partition PART] [--dir DIR]
                     [--size MiB] [--fs ext4] [--name NAME] [--encrypt]

In flash mode (PUPMODE 13) the session lives in RAM above the save; this
merges it into the save as a new generation: the previous generation stays
whole until the new one is complete and switched to in one atomic step, so
a power cut at any moment leaves the old session or the new one, never a mix.
New, changed and deleted files, directories replaced by files or symlinks,
hard links, modes, owners, times and extended attributes are carried over;
Puppy's exclusion list applies (tmp, dev, mnt, caches of downloads, ...).
The free space inside the save is checked as it goes; if it runs out the
save stops and the previous generation stays current.
In PUPMODE 12 the save is the writable layer and there is nothing to merge.
In PUPMODE 66 (an archive save on FAT) it writes the session as a new
archive beside the old one and renames it over the old one when whole.
Without a save (PUPMODE 5), --new makes the first one where the init looks
(the place psave=, SAVEMARK or SAVESPEC gave, PUPSTATE's PSAVEPART and
PSAVEDIR; else beside the main SFS), or on --partition/--dir with a SAVESPEC
that tells the init: a folder (Linux filesystems), an archive (FAT) or an
ext2/3/4 file, encrypted with LUKS2 when asked (the init asks for its
password at boot; the password is never written anywhere); it holds the
session, whiteouts and opaque directories included. Then the next boot is
planned with this boot's command line, and the result says whether it uses
the new save, and what to do when it would not.

${optionsHelp(OPTIONS)}`;

/** A new save's password: typed twice on the terminal, or the first line of stdin from a script. */
function newPassword(): string {
  if (!process.stdin.isTTY) {
    const line = readFileSync(0, "utf8").split("\n")[0]!.replace(/\r$/, "");
    if (line === "") throw new UsageError("--encrypt: stdin holds no password (its first line is the password)");
    return line;
  }
  const ask = (q: string): string => {
    const a = askOnConsole(q, 300, { silent: true, device: "/dev/tty" });
    if (a === null) throw new UsageError("--encrypt: no password typed");
    return a;
  };
  const first = ask("Password for the new save: ");
  if (first === "") throw new UsageError("--encrypt: an empty password cannot protect a save");
  if (ask("The same password again: ") !== first) throw new UsageError("--encrypt: the two passwords differ; nothing was saved");
  return first;
}

export async function runSave(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, OPTIONS);
  if (a.flags.has("help")) {
    out(SAVE_HELP);
    return 0;
  }
  if (a.positional.length) throw new UsageError(`unexpected argument '${a.positional[0]}'`);
  const json = a.flags.has("json");
  const opt = (n: string): string | undefined => a.options.get(n)?.[0];
  const keep = wholeNumber(opt("keep") ?? "3", "--keep", 0);

  if (a.flags.has("periodic")) {
    const every = opt("every");
    const sec = every === undefined ? undefined : parseInterval(every);
    if (sec === null || (sec !== undefined && sec <= 0)) throw new UsageError(`--every: '${every}' is not a time such as 90s, 30m or 2h`);
    return runPeriodic({ ...(sec !== undefined ? { everySec: sec } : {}), say: (l) => out(`ramstack save: ${new Date().toISOString()} ${l}`) });
  }
  if (opt("every") !== undefined) throw new UsageError("--every goes with --periodic");
  if (a.flags.has("shutdown")) return shutdownSave({ ask: askOnConsole, say: (l) => out(`ramstack save: ${l}`) });
  const kind = opt("new");
  if (kind !== undefined) {
    const fsText = opt("fs");
    const fs = fsText === undefined ? undefined : oneOf<SaveFs>(fsText, ["ext2", "ext3", "ext4"], "--fs");
    const name = opt("name");
    const newKind = oneOf(kind, ["folder", "file", "archive"] as const, "--new");
    if (a.flags.has("encrypt") && newKind !== "file") throw new UsageError("--encrypt goes with --new file");
    const password = a.flags.has("encrypt") ? newPassword() : undefined;
    const r = firstSave({ kind: newKind, sizeMiB: wholeNumber(opt("size") ?? "512", "--size", 0), ...(fs ? { fs } : {}), ...(name ? { name } : {}), ...(password !== undefined ? { password } : {}), ...(opt("partition") ? { partition: opt("partition")! } : {}), ...(opt("dir") ? { dir: opt("dir")! } : {}), progress: (l) => process.stderr.write(`save: ${l}\n`) });
    if (json) out(JSON.stringify({ saved: true, ...r }, null, 2));
    else {
      out(`Saved the session in ${r.path} (${r.entries} files and directories); ${r.nextBoot.says}.`);
      if (r.savespec) out(`Wrote ${r.savespec}: the init finds the save through it.`);
    }
    return 0;
  }
  for (const n of ["size", "fs", "name", "partition", "dir"]) if (a.options.has(n)) throw new UsageError(`--${n} goes with --new`);
  if (a.flags.has("encrypt")) throw new UsageError("--encrypt goes with --new file");

  const dir = opt("save-dir");
  if (dir === undefined && (a.options.has("ram") || a.options.has("lower"))) throw new UsageError("--ram and --lower go with --save-dir");

  if (a.flags.has("list") || opt("revert") !== undefined) {
    const saveRoot = dir !== undefined ? resolve(dir) : runningSaveRoot();
    if (typeof saveRoot !== "string") throw new Error(saveRoot.nothing);
    const gens = new SaveGenerations(saveRoot);
    const revert = opt("revert");
    if (revert !== undefined) {
      const n = wholeNumber(revert, "--revert", 0);
      gens.revert(n);
      if (json) out(JSON.stringify({ current: n }));
      else out(`Generation ${n} is current; it is used from the next boot.`);
      return 0;
    }
    const list = gens.list();
    if (json) out(JSON.stringify({ save: saveRoot, generations: list }, null, 2));
    else if (list.length === 0) out(`${saveRoot} has no generations yet.`);
    else for (const g of list) out(`${g.current ? "*" : " "} ${String(g.number).padStart(4)}  ${g.path}`);
    return 0;
  }

  const archive = dir === undefined ? runningArchive() : null;
  if (archive) {
    const r = saveArchiveSession(archive, { lock: SAVE_LOCK, progress: (l) => process.stderr.write(`save: ${l}\n`) });
    if (json) out(JSON.stringify({ saved: true, archive: `${archive.part}:${archive.path}`, ...r }, null, 2));
    else out(`Saved the session in ${archive.part}:${archive.path} in ${r.seconds.toFixed(1)} s: ${r.members} files and directories, ${(r.bytes / 1048576).toFixed(1)} MiB.`);
    return 0;
  }
  const ram = opt("ram");
  const target: SaveTarget | { nothing: string } =
    dir !== undefined ? { save: resolve(dir), ram: ram ? resolve(ram) : "", lowers: (a.options.get("lower") ?? []).map((l) => resolve(l)), protect: [] } : runningTarget();
  if ("nothing" in target) {
    if (json) out(JSON.stringify({ saved: false, reason: target.nothing }));
    else out(`Nothing to save: ${target.nothing}.`);
    return 0;
  }
  if (!target.ram) throw new UsageError("--save-dir needs --ram");
  const r = saveSession(target, { keep, lock: saveLock(target.save), progress: (l) => process.stderr.write(`save: ${l}\n`) });
  if (json) out(JSON.stringify({ saved: true, ...r }, null, 2));
  else {
    for (const l of r.recovered) out(`Recovered: ${l}`);
    const s = r.stats;
    out(`Saved generation ${r.generation} in ${r.seconds.toFixed(1)} s: ${s.files} files written (${(s.bytes / 1048576).toFixed(1)} MiB), ${s.unchanged} unchanged, ${s.deleted} deleted, ${s.whiteouts} whiteouts, ${s.dirs} directories.`);
    if (r.pruned.length) out(`Removed old generations: ${r.pruned.join(", ")}.`);
  }
  return 0;
}
