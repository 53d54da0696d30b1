// Every boot parameter the init honours, in one table: its syntax and help
// (for `ramstack plan --params`), the field it sets, its default, how its
// value is read and checked, and its BOOT_SPECS name. parseParams and
// applyBootSpecs are loops over this table.

import { clonePlain } from "../lib/clone.js";
import { cmdlineEnvironment, tokenizeCmdline } from "./cmdline.js";

export type ParamKind = "text" | "int" | "list" | "spec" | "enum" | "flag" | "pfix";

export interface PfixFlags {
  ram: boolean;
  rdsh: boolean;
  xorgwizard: boolean;
  nox: boolean;
  clean: boolean;
  copy: boolean;
  nocopy: boolean;
  fsck: boolean;
  fsckp: boolean;
  /** pfix=N: ignore the newest N multisession folders. */
  ignoreNewest: number;
}

export interface BootParams {
  pmedia: string;
  psubdir: string;
  psavemark: number | null;
  pupsfs: string | null;
  /** Which parameter set pupsfs: pupsfs, pdrv, pdev1, root or BOOT_SPECS. */
  pupsfsFrom: string | null;
  zdrv: string | null;
  fdrv: string | null;
  adrv: string | null;
  ydrv: string | null;
  bdrv: string | null;
  psave: string | null;
  pimod: string[];
  /** ptask=kodi,webdev: task layers (NAME_PREFIX_VERSION.sfs beside the main SFS), stacked on top. */
  ptask: string[];
  /** pautostart=kodi: tasks whose appliance starts at boot (read by the task's init script; the init only checks it). */
  pautostart: string[];
  pkeys: string | null;
  plang: string | null;
  pfix: PfixFlags;
  punionfs: "aufs" | "overlay" | null;
  waitdev: number;
  loglevel: number | null;
  root: string | null;
  isoFile: string | null;
  isoDev: string | null;
  wireless: { ssid: string; password: string } | null;
  bootmenu: boolean;
  fullinstall: boolean;
}

export const DEFAULT_WAITDEV = 5;
/** waitdev is a bound on waiting; anything longer than this is surely a typo. */
export const MAX_WAITDEV = 600;

/**
 * How a parameter's value becomes a field of BootParams: `read` returns the
 * value to store, or undefined after calling `warn` with why it is ignored.
 * `label` is the name as the user wrote it (waitdev, WAITDEV); `current` is
 * what the field holds now.
 */
export interface Setting<K extends keyof BootParams = keyof BootParams> {
  field: K;
  default: BootParams[K];
  read(value: string, label: string, current: BootParams[K], warn: (w: string) => void): BootParams[K] | undefined;
  /** Several names for one field: the highest rank wins (lower ones are read first and overridden). */
  rank?: number;
  /** The BOOT_SPECS variable that overrides it. */
  bootSpec?: string;
}

export interface ParamDef {
  name: string;
  kind: ParamKind;
  syntax: string;
  help: string;
  values?: readonly string[];
  /** Read from /proc/cmdline by name (not from the environment). */
  fromCmdline?: boolean;
  /** What it sets; none for parameters read by others (autosave: the saver). */
  setting?: Setting;
}

export const PMEDIA_VALUES = [
  "usbflash",
  "usbhd",
  "usbcd",
  "ataflash",
  "atahd",
  "atacd",
  "atazip",
  "scsihd",
  "scsicd",
  "cd",
] as const;

export const PFIX_WORDS = ["ram", "rdsh", "xorgwizard", "nox", "clean", "copy", "nocopy", "fsck", "fsckp"] as const;

const NO_PFIX: PfixFlags = {
  ram: false,
  rdsh: false,
  xorgwizard: false,
  nox: false,
  clean: false,
  copy: false,
  nocopy: false,
  fsck: false,
  fsckp: false,
  ignoreNewest: 0,
};

/** Leading '/' added, trailing '/' removed; "" means the partition root. */
export function normalizeSubdir(value: string): string {
  const v = value.trim().replace(/\/+$/, "");
  if (v === "") return "";
  return v.startsWith("/") ? v : "/" + v;
}

/** A partition number (psavemark, PSAVEMARK, a SAVEMARK file): digits, at least 1. */
export function partitionNumber(v: string): number | null {
  return /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : null;
}

function parseIntStrict(v: string): number | null {
  return /^\d+$/.test(v.trim()) ? Number(v.trim()) : null;
}

/** Task names, comma-separated (ptask, pautostart); one that could not name a task file is ignored with a warning. */
/** What a task's name may be (it names a file: NAME_PREFIX_VERSION.sfs). */
export const TASK_NAME = /^[a-z0-9][a-z0-9-]*$/;

function taskNames(v: string, label: string, _current: string[], warn: (w: string) => void): string[] {
  const names = v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !TASK_NAME.test(n));
  if (bad.length) warn(`${label}: '${bad.join("', '")}' is not a task name; ignored`);
  return names.filter((n) => !bad.includes(n));
}

/** A typed setting; the table holds them untyped. */
const set = <K extends keyof BootParams>(s: Setting<K>): Setting => s;
const asText = <K extends keyof BootParams>(field: K, extra: Partial<Setting<K>> = {}): Setting =>
  set<K>({ field, default: null as BootParams[K], read: (v) => v as BootParams[K], ...extra });

const readPfix = (value: string, _label: string, _current: PfixFlags, warn: (w: string) => void): PfixFlags => {
  const pfix = { ...NO_PFIX };
  for (const raw of value.split(",")) {
    const w = raw.trim();
    if (w === "") continue;
    const n = parseIntStrict(w);
    if (n !== null) pfix.ignoreNewest = n;
    else if ((PFIX_WORDS as readonly string[]).includes(w)) pfix[w as (typeof PFIX_WORDS)[number]] = true;
    else warn(`pfix=${w} is not a known boot parameter; ignored`);
  }
  if (pfix.copy && pfix.nocopy) {
    warn("pfix has both copy and nocopy; nocopy wins");
    pfix.copy = false;
  }
  return pfix;
};

const unsupported = (field: "bootmenu" | "fullinstall", consequence: string): Setting =>
  set({
    field,
    default: false,
    read: (_v, label, _c, warn) => (warn(`${label} is not supported by this init yet; ${consequence}`), true),
  });

const SPEC = "partition[:path/filename]";
const pupsfs = (rank: number, bootSpec?: string): Setting => asText("pupsfs", bootSpec ? { rank, bootSpec } : { rank });
const sfs = (field: "zdrv" | "fdrv" | "adrv" | "ydrv" | "bdrv" | "psave"): Setting =>
  asText(field, { bootSpec: field.toUpperCase() });
const isoFile = (rank: number): Setting => asText("isoFile", { rank });

// prettier-ignore
export const PARAMS: readonly ParamDef[] = [
  { name: "pmedia", kind: "enum", syntax: "usbflash|usbhd|...|cd", values: PMEDIA_VALUES,
    help: "boot media type: *flash means PUPMODE 13 (save merged from RAM), *hd means 12; usb* searches USB drives only",
    // "" (BOOT_SPECS' PMEDIA='') is the default: no media type given.
    setting: set({ field: "pmedia", default: "", bootSpec: "PMEDIA", read: (v, label, _c, warn) =>
      v === "" || (PMEDIA_VALUES as readonly string[]).includes(v) ? v : void warn(`${label}=${v} is not a known media type (${PMEDIA_VALUES.join(", ")}); ignored`) }) },
  { name: "psubdir", kind: "text", syntax: "dir", help: "directory of the Puppy files on their partition (default: the root)",
    setting: set({ field: "psubdir", default: "", bootSpec: "PSUBDIR", read: (v) => normalizeSubdir(v) }) },
  { name: "pupsfs", kind: "spec", syntax: SPEC, help: "where the main puppy_*.sfs is; overrides pdrv and pdev1", setting: pupsfs(3, "PUPSFS") },
  { name: "pdrv", kind: "spec", syntax: SPEC, help: "older name for pupsfs", setting: pupsfs(2, "PDRV") },
  { name: "pdev1", kind: "spec", syntax: SPEC, help: "older name for pupsfs", setting: pupsfs(1) },
  { name: "root", kind: "text", syntax: "sdXN|/dev/sdXN|UUID=..|LABEL=..", fromCmdline: true,
    help: "partition of the main SFS when no pupsfs/pdrv/pdev1 is given", setting: asText("root") },
  { name: "zdrv", kind: "spec", syntax: SPEC, help: "kernel modules and firmware SFS", setting: sfs("zdrv") },
  { name: "fdrv", kind: "spec", syntax: SPEC, help: "firmware SFS (overrides zdrv)", setting: sfs("fdrv") },
  { name: "adrv", kind: "spec", syntax: SPEC, help: "application SFS (overrides everything below the save)", setting: sfs("adrv") },
  { name: "ydrv", kind: "spec", syntax: SPEC, help: "patch SFS (overrides the main SFS)", setting: sfs("ydrv") },
  { name: "bdrv", kind: "spec", syntax: SPEC, help: "base distro SFS", setting: sfs("bdrv") },
  { name: "psave", kind: "spec", syntax: SPEC, help: "the save: a file or folder, or with a trailing '/' the directory to search", setting: sfs("psave") },
  { name: "psavemark", kind: "int", syntax: "N", help: "partition number on the boot drive that holds the save",
    setting: set({ field: "psavemark", default: null, bootSpec: "PSAVEMARK", read: (v, label, _c, warn) =>
      partitionNumber(v) ?? void warn(`${label}=${v} is not a partition number; ignored`) }) },
  { name: "pimod", kind: "list", syntax: "mod1,mod2", help: "kernel modules to load before any keyboard prompt",
    setting: set({ field: "pimod", default: [], bootSpec: "PIMOD", read: (v) => v.split(",").map((s) => s.trim()).filter(Boolean) }) },
  { name: "ptask", kind: "list", syntax: "task1,task2", help: "task layers to stack on top (NAME_PREFIX_VERSION.sfs beside the main SFS, made by ramstack build --task)",
    setting: set({ field: "ptask", default: [], read: taskNames }) },
  { name: "pautostart", kind: "list", syntax: "task", help: "start a task's appliance at boot (kodi: Kodi on the display instead of the console)",
    setting: set({ field: "pautostart", default: [], read: taskNames }) },
  { name: "pkeys", kind: "text", syntax: "us|de|uk|...", help: "console keyboard layout", setting: asText("pkeys", { bootSpec: "PKEYS" }) },
  { name: "plang", kind: "text", syntax: "ll_CC[.UTF-8]", help: "language, e.g. es_ES.UTF-8",
    setting: set({ field: "plang", default: null, bootSpec: "PLANG", read: (v, label, _c, warn) =>
      v.includes("_") ? v : void warn(`${label}=${v} ignored: a language looks like ll_CC, e.g. es_ES.UTF-8`) }) },
  { name: "pfix", kind: "pfix", syntax: "ram,nox,copy,nocopy,fsck,fsckp,rdsh,clean,xorgwizard,N",
    help: "ram: no save; copy/nocopy: SFS to RAM or not; fsck: check the save file; fsckp: check partitions; rdsh: initrd shell; N: ignore the newest N multisession folders",
    setting: set({ field: "pfix", default: NO_PFIX, read: readPfix }) },
  { name: "punionfs", kind: "enum", syntax: "aufs|overlay", values: ["aufs", "overlay"], help: "union filesystem (default: aufs when the kernel has it)",
    setting: set({ field: "punionfs", default: null, bootSpec: "PUNIONFS", read: (v, label, _c, warn) =>
      v === "aufs" || v === "overlay" ? v : void warn(`${label}=${v} ignored: use aufs or overlay`) }) },
  { name: "waitdev", kind: "int", syntax: "seconds", help: `how long to wait for devices that have not appeared (default ${DEFAULT_WAITDEV}, at most ${MAX_WAITDEV})`,
    setting: set({ field: "waitdev", default: DEFAULT_WAITDEV, bootSpec: "WAITDEV", read: (v, label, current, warn) => {
      const n = parseIntStrict(v);
      if (n === null) return void warn(`${label}=${v} is not a number of seconds; using ${current}`);
      if (n <= MAX_WAITDEV) return n;
      warn(`${label}=${n} is more than ${MAX_WAITDEV} seconds; using ${MAX_WAITDEV}`);
      return MAX_WAITDEV;
    } }) },
  { name: "loglevel", kind: "int", syntax: "0-7", fromCmdline: true, help: "kernel console log level; 7 also traces the init",
    setting: set({ field: "loglevel", default: null, read: (v, label, _c, warn) => {
      const n = parseIntStrict(v);
      return n === null || n > 7 ? void warn(`${label}=${v} ignored: use 0 to 7`) : n;
    } }) },
  { name: "pwireless", kind: "text", syntax: "ssid:password", help: "wireless network for the running system",
    // Puppy: SSID is the text before the last ':', the password after the first ':'.
    setting: set({ field: "wireless", default: null, read: (v, label, _c, warn) =>
      v.includes(":") ? { ssid: v.slice(0, v.lastIndexOf(":")), password: v.slice(v.indexOf(":") + 1) } : void warn(`${label} needs ssid:password; ignored`) }) },
  { name: "isofrom", kind: "text", syntax: "/path/file.iso", help: "boot from an ISO file (also img_loop, isoloop, findiso, find_iso)", setting: isoFile(1) },
  { name: "img_loop", kind: "text", syntax: "/path/file.iso", help: "alias of isofrom", setting: isoFile(2) },
  { name: "isoloop", kind: "text", syntax: "/path/file.iso", help: "alias of isofrom", setting: isoFile(3) },
  { name: "findiso", kind: "text", syntax: "/path/file.iso", help: "alias of isofrom", setting: isoFile(4) },
  { name: "find_iso", kind: "text", syntax: "/path/file.iso", help: "alias of isofrom (highest priority)", setting: isoFile(5) },
  { name: "iso-scan/filename", kind: "text", syntax: "/path/file.iso", fromCmdline: true, help: "Ubuntu-style ISO path, used when no isofrom-like parameter is given", setting: isoFile(0) },
  { name: "iso_dev", kind: "text", syntax: "partition", help: "partition holding the ISO (also img_dev)", setting: asText("isoDev", { rank: 1 }) },
  { name: "img_dev", kind: "text", syntax: "partition", help: "alias of iso_dev", setting: asText("isoDev", { rank: 0 }) },
  { name: "autosave", kind: "text", syntax: "folder|file[:MiB]|no", fromCmdline: true,
    help: "read at shutdown by the saver: make the first save without asking (as an AUTOSAVE file beside the main SFS does); no: never ask" },
  { name: "bootmenu", kind: "flag", syntax: "", fromCmdline: true, help: "show the initrd boot menu (not supported yet: ignored with a warning)",
    setting: unsupported("bootmenu", "ignored") },
  { name: "fullinstall", kind: "flag", syntax: "", fromCmdline: true, help: "boot a full install (not supported yet: ignored with a warning)",
    setting: unsupported("fullinstall", "booting frugal") },
];

export interface ParsedParams {
  params: BootParams;
  warnings: string[];
  log: string[];
}

/** Every field at its default. */
export function defaultParams(): BootParams {
  const p = { pupsfsFrom: null } as Partial<BootParams> as Record<string, unknown>;
  for (const d of PARAMS) if (d.setting && !(d.setting.field in p)) p[d.setting.field] = clonePlain(d.setting.default);
  return p as unknown as BootParams;
}

/** The defs in the order they are read: by table order of their field, lowest rank first (a later one overrides). */
const READ_ORDER: readonly ParamDef[] = (() => {
  const fields = [...new Set(PARAMS.filter((d) => d.setting).map((d) => d.setting!.field))];
  return fields.flatMap((f) =>
    PARAMS.filter((d) => d.setting?.field === f).sort((a, b) => (a.setting!.rank ?? 0) - (b.setting!.rank ?? 0)),
  );
})();

export function parseParams(cmdline: string): ParsedParams {
  const words = tokenizeCmdline(cmdline);
  const env = cmdlineEnvironment(words);
  const bare = new Set(words.filter((w) => w.value === null).map((w) => w.name));
  const fromCmd = new Map<string, string>();
  for (const w of words) if (w.value !== null) fromCmd.set(w.name, w.value);
  const warnings: string[] = [];
  const log: string[] = [];
  const p = defaultParams();
  const fields = p as unknown as Record<string, unknown>;
  for (const def of READ_ORDER) {
    const s = def.setting!;
    let v: string | undefined;
    if (def.kind === "flag") v = bare.has(def.name) ? "" : undefined;
    else {
      const raw = def.fromCmdline ? fromCmd.get(def.name) : env.get(def.name);
      v = raw === undefined || raw.trim() === "" ? undefined : raw.trim();
    }
    if (v === undefined) continue;
    const value = s.read(v, def.name, fields[s.field] as never, (w) => warnings.push(w));
    if (value === undefined) continue;
    // pdev1, then pdrv, then pupsfs: the last one set wins, as in Puppy.
    if (s.field === "pupsfs") {
      if (p.pupsfs !== null) log.push(`${def.name}=${v} overrides ${p.pupsfsFrom}=${p.pupsfs}`);
      p.pupsfsFrom = def.name;
    }
    fields[s.field] = value;
  }
  return { params: p, warnings, log };
}

/** Text for `ramstack plan --params`. */
export function paramsHelp(): string {
  const width = Math.max(...PARAMS.map((d) => d.name.length)) + 2;
  return PARAMS.map((d) => `  ${(d.name + "=").padEnd(width)}${d.syntax}\n  ${" ".repeat(width)}${d.help}`).join("\n");
}
