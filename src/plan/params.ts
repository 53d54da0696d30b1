// Every boot parameter the init honours, in one table. The parser, the
// validation messages and `ramstack plan --params` all come from it.

import { cmdlineEnvironment, tokenizeCmdline } from "./cmdline.js";

export type ParamKind = "text" | "int" | "list" | "spec" | "enum" | "flag" | "pfix";

export interface ParamDef {
  name: string;
  kind: ParamKind;
  syntax: string;
  help: string;
  values?: readonly string[];
  /** Read from /proc/cmdline by name (not from the environment). */
  fromCmdline?: boolean;
}

export const PMEDIA_VALUES = [
  "usbflash", "usbhd", "usbcd", "ataflash", "atahd", "atacd", "atazip", "scsihd", "scsicd", "cd",
] as const;

export const PFIX_WORDS = ["ram", "rdsh", "xorgwizard", "nox", "clean", "copy", "nocopy", "fsck", "fsckp"] as const;

const SPEC = "partition[:path/filename]";

// prettier-ignore
export const PARAMS: readonly ParamDef[] = [
  { name: "pmedia", kind: "enum", syntax: "usbflash|usbhd|...|cd", values: PMEDIA_VALUES,
    help: "boot media type: *flash means PUPMODE 13 (save merged from RAM), *hd means 12; usb* searches USB drives only" },
  { name: "psubdir", kind: "text", syntax: "dir", help: "directory of the Puppy files on their partition (default: the root)" },
  { name: "pupsfs", kind: "spec", syntax: SPEC, help: "where the main puppy_*.sfs is; overrides pdrv and pdev1" },
  { name: "pdrv", kind: "spec", syntax: SPEC, help: "older name for pupsfs" },
  { name: "pdev1", kind: "spec", syntax: SPEC, help: "older name for pupsfs" },
  { name: "root", kind: "text", syntax: "sdXN|/dev/sdXN|UUID=..|LABEL=..", fromCmdline: true,
    help: "partition of the main SFS when no pupsfs/pdrv/pdev1 is given" },
  { name: "zdrv", kind: "spec", syntax: SPEC, help: "kernel modules and firmware SFS" },
  { name: "fdrv", kind: "spec", syntax: SPEC, help: "firmware SFS (overrides zdrv)" },
  { name: "adrv", kind: "spec", syntax: SPEC, help: "application SFS (overrides everything below the save)" },
  { name: "ydrv", kind: "spec", syntax: SPEC, help: "patch SFS (overrides the main SFS)" },
  { name: "bdrv", kind: "spec", syntax: SPEC, help: "base distro SFS" },
  { name: "psave", kind: "spec", syntax: SPEC, help: "the save: a file or folder, or with a trailing '/' the directory to search" },
  { name: "psavemark", kind: "int", syntax: "N", help: "partition number on the boot drive that holds the save" },
  { name: "pimod", kind: "list", syntax: "mod1,mod2", help: "kernel modules to load before any keyboard prompt" },
  { name: "pkeys", kind: "text", syntax: "us|de|uk|...", help: "console keyboard layout" },
  { name: "plang", kind: "text", syntax: "ll_CC[.UTF-8]", help: "language, e.g. es_ES.UTF-8" },
  { name: "pfix", kind: "pfix", syntax: "ram,nox,copy,nocopy,fsck,fsckp,rdsh,clean,xorgwizard,N",
    help: "ram: no save; copy/nocopy: SFS to RAM or not; fsck: check the save file; fsckp: check partitions; rdsh: initrd shell; N: ignore the newest N multisession folders" },
  { name: "punionfs", kind: "enum", syntax: "aufs|overlay", values: ["aufs", "overlay"], help: "union filesystem (default: aufs when the kernel has it)" },
  { name: "waitdev", kind: "int", syntax: "seconds", help: "how long to wait for devices that have not appeared (default 5)" },
  { name: "pwireless", kind: "text", syntax: "ssid:password", help: "wireless network for the running system" },
  { name: "loglevel", kind: "int", syntax: "0-7", fromCmdline: true, help: "kernel console log level; 7 also traces the init" },
  { name: "isofrom", kind: "text", syntax: "/path/file.iso", help: "boot from an ISO file (also img_loop, isoloop, findiso, find_iso)" },
  { name: "img_loop", kind: "text", syntax: "/path/file.iso", help: "alias of isofrom" },
  { name: "isoloop", kind: "text", syntax: "/path/file.iso", help: "alias of isofrom" },
  { name: "findiso", kind: "text", syntax: "/path/file.iso", help: "alias of isofrom" },
  { name: "find_iso", kind: "text", syntax: "/path/file.iso", help: "alias of isofrom (highest priority)" },
  { name: "iso-scan/filename", kind: "text", syntax: "/path/file.iso", fromCmdline: true, help: "Ubuntu-style ISO path, used when no isofrom-like parameter is given" },
  { name: "iso_dev", kind: "text", syntax: "partition", help: "partition holding the ISO (also img_dev)" },
  { name: "img_dev", kind: "text", syntax: "partition", help: "alias of iso_dev" },
  { name: "autosave", kind: "text", syntax: "folder|file[:MiB]|no", fromCmdline: true,
    help: "read at shutdown by the saver: make the first save without asking (as an AUTOSAVE file beside the main SFS does); no: never ask" },
  { name: "bootmenu", kind: "flag", syntax: "", fromCmdline: true, help: "show the initrd boot menu (not supported yet: ignored with a warning)" },
  { name: "fullinstall", kind: "flag", syntax: "", fromCmdline: true, help: "boot a full install (not supported yet: ignored with a warning)" },
];

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

export interface ParsedParams {
  params: BootParams;
  warnings: string[];
  log: string[];
}

/** Leading '/' added, trailing '/' removed; "" means the partition root. */
export function normalizeSubdir(value: string): string {
  const v = value.trim().replace(/\/+$/, "");
  if (v === "") return "";
  return v.startsWith("/") ? v : "/" + v;
}

function parseIntStrict(v: string): number | null {
  return /^\d+$/.test(v.trim()) ? Number(v.trim()) : null;
}

export function parseParams(cmdline: string): ParsedParams {
  const words = tokenizeCmdline(cmdline);
  const env = cmdlineEnvironment(words);
  const bare = new Set(words.filter((w) => w.value === null).map((w) => w.name));
  const fromCmd = new Map<string, string>();
  for (const w of words) if (w.value !== null) fromCmd.set(w.name, w.value);
  const warnings: string[] = [];
  const log: string[] = [];
  const get = (name: string): string | undefined => {
    const def = PARAMS.find((p) => p.name === name);
    const v = def?.fromCmdline ? fromCmd.get(name) : env.get(name);
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };

  const p: BootParams = {
    pmedia: "", psubdir: "", psavemark: null, pupsfs: null, pupsfsFrom: null,
    zdrv: null, fdrv: null, adrv: null, ydrv: null, bdrv: null, psave: null,
    pimod: [], pkeys: null, plang: null,
    pfix: { ram: false, rdsh: false, xorgwizard: false, nox: false, clean: false, copy: false, nocopy: false, fsck: false, fsckp: false, ignoreNewest: 0 },
    punionfs: null, waitdev: DEFAULT_WAITDEV, loglevel: null, root: null, isoFile: null, isoDev: null,
    wireless: null, bootmenu: bare.has("bootmenu"), fullinstall: bare.has("fullinstall"),
  };

  const pmedia = get("pmedia");
  if (pmedia !== undefined) {
    if ((PMEDIA_VALUES as readonly string[]).includes(pmedia)) p.pmedia = pmedia;
    else warnings.push(`pmedia=${pmedia} is not a known media type (${PMEDIA_VALUES.join(", ")}); ignored`);
  }
  const psubdir = get("psubdir");
  if (psubdir !== undefined) p.psubdir = normalizeSubdir(psubdir);

  const psavemark = get("psavemark");
  if (psavemark !== undefined) {
    const n = parseIntStrict(psavemark);
    if (n === null || n < 1) warnings.push(`psavemark=${psavemark} is not a partition number; ignored`);
    else p.psavemark = n;
  }
  // pdev1, then pdrv, then pupsfs: the last one set wins, as in Puppy.
  for (const name of ["pdev1", "pdrv", "pupsfs"] as const) {
    const v = get(name);
    if (v !== undefined) {
      if (p.pupsfs !== null) log.push(`${name}=${v} overrides ${p.pupsfsFrom}=${p.pupsfs}`);
      p.pupsfs = v;
      p.pupsfsFrom = name;
    }
  }
  for (const name of ["zdrv", "fdrv", "adrv", "ydrv", "bdrv", "psave"] as const) {
    const v = get(name);
    if (v !== undefined) p[name] = v;
  }
  const pimod = get("pimod");
  if (pimod !== undefined) p.pimod = pimod.split(",").map((s) => s.trim()).filter(Boolean);
  p.pkeys = get("pkeys") ?? null;
  const plang = get("plang");
  if (plang !== undefined) {
    if (plang.includes("_")) p.plang = plang;
    else warnings.push(`plang=${plang} ignored: a language looks like ll_CC, e.g. es_ES.UTF-8`);
  }

  const pfix = get("pfix");
  if (pfix !== undefined) {
    for (const raw of pfix.split(",")) {
      const w = raw.trim();
      if (w === "") continue;
      const n = parseIntStrict(w);
      if (n !== null) p.pfix.ignoreNewest = n;
      else if ((PFIX_WORDS as readonly string[]).includes(w)) p.pfix[w as (typeof PFIX_WORDS)[number]] = true;
      else warnings.push(`pfix=${w} is not a known boot parameter; ignored`);
    }
    if (p.pfix.copy && p.pfix.nocopy) {
      warnings.push("pfix has both copy and nocopy; nocopy wins");
      p.pfix.copy = false;
    }
  }

  const punionfs = get("punionfs");
  if (punionfs !== undefined) {
    if (punionfs === "aufs" || punionfs === "overlay") p.punionfs = punionfs;
    else warnings.push(`punionfs=${punionfs} ignored: use aufs or overlay`);
  }
  const waitdev = get("waitdev");
  if (waitdev !== undefined) {
    const n = parseIntStrict(waitdev);
    if (n === null) warnings.push(`waitdev=${waitdev} is not a number of seconds; using ${DEFAULT_WAITDEV}`);
    else if (n > MAX_WAITDEV) {
      warnings.push(`waitdev=${n} is more than ${MAX_WAITDEV} seconds; using ${MAX_WAITDEV}`);
      p.waitdev = MAX_WAITDEV;
    } else p.waitdev = n;
  }
  const loglevel = get("loglevel");
  if (loglevel !== undefined) {
    const n = parseIntStrict(loglevel);
    if (n === null || n > 7) warnings.push(`loglevel=${loglevel} ignored: use 0 to 7`);
    else p.loglevel = n;
  }
  p.root = get("root") ?? null;

  // ISO boot: each name overrides the one before; iso-scan/filename only when none is set.
  for (const name of ["isofrom", "img_loop", "isoloop", "findiso", "find_iso"]) {
    const v = get(name);
    if (v !== undefined) p.isoFile = v;
  }
  if (p.isoFile === null) p.isoFile = get("iso-scan/filename") ?? null;
  p.isoDev = get("iso_dev") ?? get("img_dev") ?? null;

  const wireless = get("pwireless");
  if (wireless !== undefined) {
    // Puppy: SSID is the text before the last ':', the password after the first ':'.
    const last = wireless.lastIndexOf(":");
    const first = wireless.indexOf(":");
    if (first < 0) warnings.push("pwireless needs ssid:password; ignored");
    else p.wireless = { ssid: wireless.slice(0, last), password: wireless.slice(first + 1) };
  }
  if (p.bootmenu) warnings.push("bootmenu is not supported by this init yet; ignored");
  if (p.fullinstall) warnings.push("fullinstall is not supported by this init yet; booting frugal");
  return { params: p, warnings, log };
}

/** Text for `ramstack plan --params`. */
export function paramsHelp(): string {
  const width = Math.max(...PARAMS.map((d) => d.name.length)) + 2;
  return PARAMS.map((d) => `  ${(d.name + "=").padEnd(width)}${d.syntax}\n  ${" ".repeat(width)}${d.help}`).join("\n");
}
