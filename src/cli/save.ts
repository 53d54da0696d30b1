// `ramstack save`: merge the RAM layer into the save (flash mode); with a
// subcommand, make the first save, list the save's generations, go back to
// one, save periodically or at shutdown. parseSave turns the arguments into
// a request without touching the system; runSave carries it out.

import type { Progress } from "../lib/progress.js";
import { NO_PROGRESS, progress } from "../lib/progress.js";
import { portProgress } from "./progress.js";
import { defaultPort } from "../port/default.js";
import { resolveFrom } from "../lib/path.js";
import type { Port } from "../port/port.js";
import type { SaveFs } from "../save/first.js";
import { firstSave } from "../save/first.js";
import { SaveGenerations } from "../save/generations.js";
import { parseInterval, runPeriodic } from "../save/periodic.js";
import { shutdownSave } from "../save/shutdown.js";
import { saveLock, SAVE_LOCK } from "../save/running.js";
import type { SaveTarget } from "../save/session.js";
import { runningArchive, runningSaveRoot, runningTarget, saveArchiveSession, saveSession } from "../save/session.js";
import type { OptionDef, ParsedArgs } from "./args.js";
import { oneOf, optionsHelp, optionValue, parseArgs, UsageError, wholeNumber } from "./args.js";

// Options shared by several subcommands, each declared once.
const JSON_OPT: OptionDef = { name: "json", help: "print the result as JSON" };
const HELP_OPT: OptionDef = { name: "help", help: "show this help" };
const SAVE_DIR: OptionDef = {
  name: "save-dir",
  value: "DIR",
  help: "the save's root (default: the running system's save)",
};

const NEW_OPTIONS: OptionDef[] = [
  {
    name: "partition",
    value: "PART",
    help: "the partition to save on (default: PSAVEPART, else the main SFS's; elsewhere a SAVESPEC beside the main SFS points to it)",
  },
  { name: "dir", value: "DIR", help: "the directory on that partition (default: PSAVEDIR, else the main SFS's, or /)" },
  { name: "size", value: "MiB", default: "512", help: "with file: the save file's size" },
  { name: "fs", value: "FS", help: "with file: ext2, ext3 or ext4 (default ext4, or ext2 with busybox's mke2fs)" },
  { name: "name", value: "NAME", help: "name the save PREFIXsave-NAME" },
  {
    name: "encrypt",
    help: "with file: a LUKS2 save file; the password is asked twice on the terminal, or read as the first line of stdin when it is not a terminal",
  },
  JSON_OPT,
  HELP_OPT,
];
const LIST_OPTIONS: OptionDef[] = [SAVE_DIR, JSON_OPT, HELP_OPT];
const REVERT_OPTIONS: OptionDef[] = [SAVE_DIR, JSON_OPT, HELP_OPT];
const EVERY: OptionDef = {
  name: "every",
  value: "TIME",
  help: "this interval instead of RAMSAVEINTERVAL (90s, 30m, 2h; a bare number is minutes)",
};
const PERIODIC_OPTIONS: OptionDef[] = [EVERY, HELP_OPT];
const SHUTDOWN_OPTIONS: OptionDef[] = [HELP_OPT];

/**
 * `ramstack save` itself (the merge), and the older flags that chose the
 * other modes, hidden from the help but accepted as they always were.
 */
const SAVE_OPTIONS: OptionDef[] = [
  { name: "keep", value: "N", default: "3", help: "older generations to keep after a save" },
  SAVE_DIR,
  { name: "ram", value: "DIR", help: "with --save-dir: the RAM layer to merge" },
  { name: "lower", value: "DIR", repeat: true, help: "with --save-dir: a read-only layer under the save" },
  JSON_OPT,
  HELP_OPT,
  { name: "new", value: "KIND", hidden: true, help: "= save new KIND" },
  ...NEW_OPTIONS.filter((d) => d !== JSON_OPT && d !== HELP_OPT).map((d) => ({ ...d, hidden: true })),
  { name: "periodic", hidden: true, help: "= save periodic" },
  { ...EVERY, hidden: true },
  { name: "shutdown", hidden: true, help: "= save shutdown" },
  { name: "list", hidden: true, help: "= save list" },
  { name: "revert", value: "N", hidden: true, help: "= save revert N" },
];

export const SAVE_HELP = `Usage: ramstack save [--keep N] [--save-dir DIR --ram DIR [--lower DIR]...] [--json]
       ramstack save new folder|file|archive [--partition PART] [--dir DIR]
                 [--size MiB] [--fs ext4] [--name NAME] [--encrypt] [--json]
       ramstack save list [--json]
       ramstack save revert N [--json]
       ramstack save periodic [--every TIME]
       ramstack save shutdown

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

Subcommands (each has its own --help):
  new KIND   without a save (PUPMODE 5): make the first one
  list       list the save's generations; * marks the current one
  revert N   make generation N current again (from the next boot)
  periodic   keep saving every RAMSAVEINTERVAL minutes (PUPMODE 13 and 66)
  shutdown   what poweroff and reboot run: ask, then save

${optionsHelp(SAVE_OPTIONS)}

The older forms --new KIND, --list, --revert N, --periodic [--every TIME]
and --shutdown still work, as the subcommands of the same names.`;

const NEW_HELP = `Usage: ramstack save new folder|file|archive [--partition PART] [--dir DIR]
                         [--size MiB] [--fs ext4] [--name NAME] [--encrypt] [--json]

Without a save (PUPMODE 5), makes the first one where the init looks (the
place psave=, SAVEMARK or SAVESPEC gave, PUPSTATE's PSAVEPART and PSAVEDIR;
else beside the main SFS), or on --partition/--dir with a SAVESPEC that
tells the init: a folder (Linux filesystems), an archive (FAT) or an
ext2/3/4 file, encrypted with LUKS2 when asked (the init asks for its
password at boot; the password is never written anywhere); it holds the
session, whiteouts and opaque directories included. Then the next boot is
planned with this boot's command line, and the result says whether it uses
the new save, and what to do when it would not.

${optionsHelp(NEW_OPTIONS)}`;

const LIST_HELP = `Usage: ramstack save list [--save-dir DIR] [--json]

Lists the save's generations; * marks the current one.

${optionsHelp(LIST_OPTIONS)}`;

const REVERT_HELP = `Usage: ramstack save revert N [--save-dir DIR] [--json]

Makes generation N (see 'ramstack save list') the current one; the system
uses it from the next boot.

${optionsHelp(REVERT_OPTIONS)}`;

const PERIODIC_HELP = `Usage: ramstack save periodic [--every TIME]

Keeps saving every RAMSAVEINTERVAL minutes (/etc/eventmanager) in PUPMODE 13
and 66; rc.sysinit starts it at boot when RAMSAVEINTERVAL is set.

${optionsHelp(PERIODIC_OPTIONS)}`;

const SHUTDOWN_HELP = `Usage: ramstack save shutdown

What poweroff and reboot run (rc.shutdown): asks whether to save (or
AUTOSAVE and /etc/eventmanager decide), then saves.

${optionsHelp(SHUTDOWN_OPTIONS)}`;

export type NewSaveKind = "folder" | "file" | "archive";

/** What `ramstack save ARGS` asks for, once its arguments are checked. */
export type SaveRequest =
  | { do: "help"; text: string }
  /** Merge the session into the save (or write a new archive); with saveDir, that save and ram/lowers instead of the running system's. */
  | { do: "merge"; json: boolean; keep: number; saveDir?: string; ram?: string; lowers: string[] }
  | {
      do: "new";
      json: boolean;
      kind: NewSaveKind;
      sizeMiB: number;
      fs?: SaveFs;
      name?: string;
      encrypt: boolean;
      partition?: string;
      dir?: string;
    }
  | { do: "list"; json: boolean; saveDir?: string }
  | { do: "revert"; json: boolean; generation: number; saveDir?: string }
  | { do: "periodic"; everySec?: number }
  | { do: "shutdown" };

const SUBCOMMANDS = ["new", "list", "revert", "periodic", "shutdown"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

function everySeconds(every: string | undefined): number | undefined {
  if (every === undefined) return undefined;
  const sec = parseInterval(every);
  if (sec === null || sec <= 0) throw new UsageError(`--every: '${every}' is not a time such as 90s, 30m or 2h`);
  return sec;
}

/** The new save's settings, from `save new KIND ...` or the older `save --new KIND ...`. */
function newRequest(
  kindText: string,
  what: string,
  a: ParsedArgs,
  defs: readonly OptionDef[],
  encryptHint: string,
): SaveRequest {
  const opt = (n: string): string | undefined => optionValue(a, defs, n);
  const fsText = opt("fs");
  const fs = fsText === undefined ? undefined : oneOf<SaveFs>(fsText, ["ext2", "ext3", "ext4"], "--fs");
  const kind = oneOf(kindText, ["folder", "file", "archive"] as const, what);
  const encrypt = a.flags.has("encrypt");
  if (encrypt && kind !== "file") throw new UsageError(`--encrypt goes with ${encryptHint}`);
  const sizeMiB = wholeNumber(opt("size")!, "--size", 0);
  const name = opt("name");
  const partition = opt("partition");
  const dir = opt("dir");
  return {
    do: "new",
    json: a.flags.has("json"),
    kind,
    sizeMiB,
    ...(fs ? { fs } : {}),
    ...(name ? { name } : {}),
    encrypt,
    ...(partition ? { partition } : {}),
    ...(dir ? { dir } : {}),
  };
}

/** A subcommand's arguments: its own options and the positional arguments it takes. */
function parseSubcommand(sub: Subcommand, argv: readonly string[]): SaveRequest {
  const command = `save ${sub}`;
  try {
    const defs = {
      new: NEW_OPTIONS,
      list: LIST_OPTIONS,
      revert: REVERT_OPTIONS,
      periodic: PERIODIC_OPTIONS,
      shutdown: SHUTDOWN_OPTIONS,
    }[sub];
    const a = parseArgs(argv, defs);
    if (a.flags.has("help"))
      return {
        do: "help",
        text: { new: NEW_HELP, list: LIST_HELP, revert: REVERT_HELP, periodic: PERIODIC_HELP, shutdown: SHUTDOWN_HELP }[
          sub
        ],
      };
    const wants = sub === "new" ? "a kind: folder, file or archive" : sub === "revert" ? "a generation number" : null;
    if (wants !== null && a.positional.length === 0) throw new UsageError(`${command} needs ${wants}`);
    const extra = a.positional[wants === null ? 0 : 1];
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const json = a.flags.has("json");
    const saveDir = a.options.get("save-dir")?.[0];
    switch (sub) {
      case "new":
        return newRequest(a.positional[0]!, "save new", a, defs, "save new file");
      case "list":
        return { do: "list", json, ...(saveDir !== undefined ? { saveDir } : {}) };
      case "revert":
        return {
          do: "revert",
          json,
          generation: wholeNumber(a.positional[0]!, "save revert", 0),
          ...(saveDir !== undefined ? { saveDir } : {}),
        };
      case "periodic": {
        const everySec = everySeconds(a.options.get("every")?.[0]);
        return { do: "periodic", ...(everySec !== undefined ? { everySec } : {}) };
      }
      case "shutdown":
        return { do: "shutdown" };
    }
  } catch (e) {
    if (e instanceof UsageError && e.command === undefined) throw new UsageError(e.message, command);
    throw e;
  }
}

/**
 * What `ramstack save ARGS` asks for, without doing any of it: a subcommand
 * (new, list, revert, periodic, shutdown) with its own options, or the merge
 * with the older flags that choose the other modes, checked in the order
 * they always were.
 */
export function parseSave(argv: readonly string[]): SaveRequest {
  const first = argv[0];
  if (first !== undefined && (SUBCOMMANDS as readonly string[]).includes(first))
    return parseSubcommand(first as Subcommand, argv.slice(1));
  const a = parseArgs(argv, SAVE_OPTIONS);
  if (a.flags.has("help")) return { do: "help", text: SAVE_HELP };
  if (a.positional.length)
    throw new UsageError(`unknown subcommand '${a.positional[0]}': the subcommands are ${SUBCOMMANDS.join(", ")}`);
  const json = a.flags.has("json");
  const opt = (n: string): string | undefined => optionValue(a, SAVE_OPTIONS, n);
  const keep = wholeNumber(opt("keep")!, "--keep", 0);

  if (a.flags.has("periodic")) {
    const everySec = everySeconds(opt("every"));
    return { do: "periodic", ...(everySec !== undefined ? { everySec } : {}) };
  }
  if (opt("every") !== undefined) throw new UsageError("--every goes with --periodic");
  if (a.flags.has("shutdown")) return { do: "shutdown" };
  const kind = opt("new");
  if (kind !== undefined) return newRequest(kind, "--new", a, SAVE_OPTIONS, "--new file");
  for (const n of ["size", "fs", "name", "partition", "dir"])
    if (a.options.has(n)) throw new UsageError(`--${n} goes with --new`);
  if (a.flags.has("encrypt")) throw new UsageError("--encrypt goes with --new file");

  const saveDir = opt("save-dir");
  if (saveDir === undefined && (a.options.has("ram") || a.options.has("lower")))
    throw new UsageError("--ram and --lower go with --save-dir");
  const at = saveDir !== undefined ? { saveDir } : {};
  const revert = opt("revert");
  if (revert !== undefined) return { do: "revert", json, generation: wholeNumber(revert, "--revert", 0), ...at };
  if (a.flags.has("list")) return { do: "list", json, ...at };
  const ram = opt("ram");
  if (saveDir !== undefined && !ram) throw new UsageError("--save-dir needs --ram");
  return { do: "merge", json, keep, ...at, ...(ram ? { ram } : {}), lowers: a.options.get("lower") ?? [] };
}

/** A new save's password: typed twice on the terminal, or the first line of stdin from a script. */
function newPassword(port: Port): string {
  if (!port.stdinIsTerminal()) {
    const line = port.readStdin().split("\n")[0]!.replace(/\r$/, "");
    if (line === "") throw new UsageError("--encrypt: stdin holds no password (its first line is the password)");
    return line;
  }
  const ask = (q: string): string => {
    const a = port.ask(q, 300, { silent: true, device: "/dev/tty" });
    if (a === null) throw new UsageError("--encrypt: no password typed");
    return a;
  };
  const first = ask("Password for the new save: ");
  if (first === "") throw new UsageError("--encrypt: an empty password cannot protect a save");
  if (ask("The same password again: ") !== first)
    throw new UsageError("--encrypt: the two passwords differ; nothing was saved");
  return first;
}

export async function runSave(
  argv: readonly string[],
  out: (s: string) => void,
  port: Port = defaultPort(),
): Promise<number> {
  const r = parseSave(argv);
  switch (r.do) {
    case "help":
      out(r.text);
      return 0;
    case "periodic":
      return runPeriodic({
        ...(r.everySec !== undefined ? { everySec: r.everySec } : {}),
        say: (l) => out(`ramstack save: ${new Date().toISOString()} ${l}`),
        port,
      });
    case "shutdown":
      return shutdownSave({ ask: (q, t, o) => port.ask(q, t, o), say: (l) => out(`ramstack save: ${l}`), port });
    case "new":
      return newSave(r, out, port);
    case "list":
    case "revert":
      return generations(r, out, port);
    case "merge":
      return merge(r, out, port);
  }
}

type Request<K extends SaveRequest["do"]> = Extract<SaveRequest, { do: K }>;
/** Progress on stderr, a bar on a terminal; none with --json. */
const progressOn = (port: Port, json: boolean): Progress => (json ? NO_PROGRESS : progress(portProgress(port), "save"));

function newSave(q: Request<"new">, out: (s: string) => void, port: Port): number {
  const progress = progressOn(port, q.json);
  const password = q.encrypt ? newPassword(port) : undefined;
  const r = firstSave(
    {
      kind: q.kind,
      sizeMiB: q.sizeMiB,
      ...(q.fs ? { fs: q.fs } : {}),
      ...(q.name ? { name: q.name } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(q.partition ? { partition: q.partition } : {}),
      ...(q.dir ? { dir: q.dir } : {}),
      progress,
    },
    "/",
    port,
  );
  if (q.json) out(JSON.stringify({ saved: true, ...r }, null, 2));
  else {
    out(`Saved the session in ${r.path} (${r.entries} files and directories); ${r.nextBoot.says}.`);
    if (r.savespec) out(`Wrote ${r.savespec}: the init finds the save through it.`);
  }
  return 0;
}

function generations(q: Request<"list"> | Request<"revert">, out: (s: string) => void, port: Port): number {
  const saveRoot = q.saveDir !== undefined ? resolveFrom(port.cwd(), q.saveDir) : runningSaveRoot("/", port);
  if (typeof saveRoot !== "string") throw new Error(saveRoot.nothing);
  const gens = new SaveGenerations(saveRoot, port);
  if (q.do === "revert") {
    gens.revert(q.generation);
    if (q.json) out(JSON.stringify({ current: q.generation }));
    else out(`Generation ${q.generation} is current; it is used from the next boot.`);
    return 0;
  }
  const list = gens.list();
  if (q.json) out(JSON.stringify({ save: saveRoot, generations: list }, null, 2));
  else if (list.length === 0) out(`${saveRoot} has no generations yet.`);
  else for (const g of list) out(`${g.current ? "*" : " "} ${String(g.number).padStart(4)}  ${g.path}`);
  return 0;
}

function merge(q: Request<"merge">, out: (s: string) => void, port: Port): number {
  const json = q.json;
  const progress = progressOn(port, json);
  const archive = q.saveDir === undefined ? runningArchive("/", port) : null;
  if (archive) {
    const r = saveArchiveSession(archive, { lock: SAVE_LOCK, progress }, port);
    if (json) out(JSON.stringify({ saved: true, archive: `${archive.part}:${archive.path}`, ...r }, null, 2));
    else
      out(
        `Saved the session in ${archive.part}:${archive.path} in ${r.seconds.toFixed(1)} s: ${r.members} files and directories, ${(r.bytes / 1048576).toFixed(1)} MiB.`,
      );
    return 0;
  }
  const target: SaveTarget | { nothing: string } =
    q.saveDir !== undefined
      ? {
          save: resolveFrom(port.cwd(), q.saveDir),
          ram: resolveFrom(port.cwd(), q.ram!),
          lowers: q.lowers.map((l) => resolveFrom(port.cwd(), l)),
          protect: [],
        }
      : runningTarget("/", port);
  if ("nothing" in target) {
    if (json) out(JSON.stringify({ saved: false, reason: target.nothing }));
    else out(`Nothing to save: ${target.nothing}.`);
    return 0;
  }
  const r = saveSession(target, { keep: q.keep, lock: saveLock(target.save, port), progress }, port);
  if (json) out(JSON.stringify({ saved: true, ...r }, null, 2));
  else {
    for (const l of r.recovered) out(`Recovered: ${l}`);
    const s = r.stats;
    out(
      `Saved generation ${r.generation} in ${r.seconds.toFixed(1)} s: ${s.files} files written (${(s.bytes / 1048576).toFixed(1)} MiB), ${s.unchanged} unchanged, ${s.deleted} deleted, ${s.whiteouts} whiteouts, ${s.dirs} directories.`,
    );
    if (r.pruned.length) out(`Removed old generations: ${r.pruned.join(", ")}.`);
  }
  return 0;
}
