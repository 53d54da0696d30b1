// The boot plan: what the init will do, and why.

import type { Decision } from "./log.js";

export type LayerRole = "rw" | "save" | "adrv" | "ydrv" | "bdrv" | "puppy" | "fdrv" | "zdrv" | "extra";

export interface Layer {
  role: LayerRole;
  /** Partition the file is on; null for RAM (tmpfs) and the initrd. */
  partition: string | null;
  /** File or directory of the layer; for the rw tmpfs its path inside /mnt/tmpfs. */
  path: string | null;
  /** Copied to RAM (or already there). */
  ram: boolean;
  /** Where the layer is mounted in the initrd, e.g. /pup_ro2. */
  mountpoint: string;
  /** partition | initrd | iso | tmpfs | save */
  source: "partition" | "initrd" | "iso" | "tmpfs" | "save";
  /** For role extra: devx, nlsx, docx, kbuild or extra (EXTRASFSLIST). */
  kind?: string;
  sizeMiB?: number;
  fstype?: string;
}

export type SaveKind = "none" | "folder" | "file" | "partition" | "archive" | "multisession";

export interface SavePlan {
  kind: SaveKind;
  partition: string | null;
  path: string | null;
  flash: boolean;
  fstype?: string;
  /** Filesystem inside a save file. */
  fileFs?: string;
  encrypted?: boolean;
  /** Multisession folders to copy, newest first. */
  folders?: string[];
  /** Directory searched for saves, with a trailing '/'. */
  dir?: string;
  /** Layout of the save for the union: overlay keeps upper/ and work/. */
  layout?: "overlay" | "aufs";
}

export interface Question {
  id: "save-choice" | "upgrade";
  prompt: string;
  options: { value: string; label: string }[];
  default: string;
  timeoutSec: number;
}

export interface FsckStep {
  target: string;
  reason: string;
}

export interface Plan {
  pupmode: number;
  unionfs: "overlay" | "aufs";
  layers: Layer[];
  save: SavePlan;
  /**
   * Where a save goes when its place was given (psave, SAVEMARK/psavemark,
   * SAVESPEC), whether or not one is there yet; null when the save is looked
   * for beside the main SFS. PSAVEPART and PSAVEDIR; the first save's place.
   */
  saveTarget: { partition: string; fstype: string; dir: string; from: string } | null;
  fatal: string | null;
  warnings: string[];
  log: string[];
  decisions: Decision[];
  /** Device IDs that were looked for and not found: waiting may help. */
  pending: string[];
  distro: { name: string; version: string; prefix: string } | null;
  psubdir: string;
  pmedia: string;
  waitdev: number;
  /** The main SFS partition (PDEV1), "initrd" for an SFS in the initrd. */
  bootPartition: string | null;
  iso: { partition: string; path: string } | null;
  copyMode: "auto" | "yes" | "no";
  /** tmpfs size for /mnt/tmpfs as a percentage of RAM. */
  tmpfsPercent: number;
  /** Partitions that stay mounted after the switch. */
  keepMounted: string[];
  /** All of the boot files are in RAM: the boot medium can be removed. */
  mediaRemovable: boolean;
  fsck: FsckStep[];
  /** fsckme.flg files to remove once read, as partition:path. */
  fsckFlags: string[];
  resizeSave: { kib: number } | null;
  modules: string[];
  modulesFrom: "pimod" | "initmodules" | null;
  keymap: string | null;
  /** The initrd's keymap for it (/lib/keymaps/NAME.gz), when there is one. */
  keymapFile: string | null;
  lang: string | null;
  font: string | null;
  codepage: string | null;
  upgrade: {
    status: "same" | "new" | "auto" | "ask" | "declined" | "accepted" | "deferred" | "none";
    reason: string;
    clean: boolean;
  };
  questions: Question[];
  flags: { rdsh: boolean; nox: boolean; xorgwizard: boolean; forcePm5: boolean; versionUpdate: boolean };
  wireless: { ssid: string } | null;
  tz: string | null;
  pupstate: Record<string, string>;
  bootconfig: Record<string, string>;
}
