// The boot planner: machine facts + kernel command line + the initrd's spec
// files -> a boot plan with the reason for every decision. Pure: it reads
// only what it is given, and the same input always gives the same plan.

import { applyBootSpecs } from "./bootspecs.js";
import type { CopyCandidate, CopyMode } from "./copy.js";
import { decideCopies } from "./copy.js";
import type { IdMatch, Inventory, Part } from "./devices.js";
import { describePart, FSCK_FS, partitionName, resolveId, takeInventory } from "./devices.js";
import type { DistroInfo, SfsKind } from "./distro.js";
import { parseDistroSpecs } from "./distro.js";
import { renderBootconfig, renderPupstate } from "./handover.js";
import { chooseLocale } from "./locale.js";
import { DecisionLog } from "./log.js";
import type { Machine, MachineDisk, MachinePartition } from "./machine.js";
import { DEFAULT_FILESYSTEMS } from "./machine.js";
import type { BootParams } from "./params.js";
import { parseParams } from "./params.js";
import type { SaveCandidate } from "./save.js";
import { archivePath, archiveSave, classifySave, multisessionFolders, saveLayout, savesInDir, wholePartitionSave } from "./save.js";
import { parseShellVars } from "./shellvars.js";
import type { Spec } from "./spec.js";
import { decodeSpec, sfsPathFor, sfsProblem } from "./spec.js";
import type { FileTree } from "./tree.js";
import { basename, dirname, joinPath, normalizePath } from "./tree.js";
import type { FsckStep, Layer, Plan, Question, SavePlan } from "./types.js";
import { checkSavedSpecs } from "./upgrade.js";

export interface Answers {
  /** Index chosen in the several-saves menu ("0" = none). */
  saveChoice?: string;
  /** Use a save made by another version: "yes" or "no". */
  upgrade?: string;
  /** The encrypted save was opened: its files can be read now. */
  saveUnlocked?: boolean;
}

export interface PlanInput {
  machine: Machine;
  cmdline: string;
  answers?: Answers;
  /** How to read a partition's files; defaults to the machine file's `files`. */
  treeFor?: (p: MachinePartition, d: MachineDisk) => FileTree;
}

/** Prompts time out so that an unattended boot always finishes. */
export const PROMPT_TIMEOUT_SEC = 30;

/** A save of another version: use it (with the upgrade clean-up) or boot in RAM. */
export function upgradeQuestion(reason: string): Question {
  return {
    id: "upgrade",
    prompt: `${reason}. Use it anyway? Old system files in it will be cleaned up.`,
    options: [{ value: "yes", label: "yes, use it" }, { value: "no", label: "no, boot in RAM and leave it alone" }],
    default: "no",
    timeoutSec: PROMPT_TIMEOUT_SEC,
  };
}

class Fatal extends Error {}

/** A directory as PSAVEDIR spells it: rooted, with a trailing '/'. */
function asDir(path: string): string {
  const n = normalizePath(path || "/");
  return n === "/" ? "/" : `${n}/`;
}

/** Where an SFS was found. */
interface Located {
  kind: SfsKind | "extra";
  source: "partition" | "initrd" | "iso";
  part: Part | null;
  path: string;
  sizeMiB: number;
}

const MOUNTPOINT: Record<SfsKind, string> = {
  puppy: "/pup_ro2", adrv: "/pup_a", ydrv: "/pup_y", bdrv: "/pup_b", zdrv: "/pup_z", fdrv: "/pup_f",
  devx: "/pup_dev", nlsx: "/pup_nls", docx: "/pup_doc", kbuild: "/pup_k",
};

/** The order SFS are copied to RAM in: the most used first (PR #3783). */
const COPY_PRIORITY: (SfsKind | "extra")[] = ["puppy", "adrv", "ydrv", "bdrv", "devx", "nlsx", "docx", "zdrv", "fdrv", "kbuild", "extra"];

export function planBoot(input: PlanInput): Plan {
  return new Planner(input).run();
}

class Planner {
  private readonly log = new DecisionLog();
  private readonly m: Machine;
  private readonly answers: Answers;
  private p!: BootParams;
  private distro: DistroInfo | null = null;
  private inv!: Inventory;
  private unionfs: "overlay" | "aufs" = "overlay";
  private pending: string[] = [];
  private questions: Question[] = [];
  private tz: string | null = null;

  private iso: { host: Part; path: string; part: Part } | null = null;
  private main: Located | null = null;
  private sfs: Located[] = [];
  private save: SaveCandidate | null = null;
  private saveKind: SavePlan["kind"] = "none";
  private savePart: Part | null = null;
  private saveDir: string | null = null;
  /**
   * Where the save goes when its place was given (psave, SAVEMARK or
   * psavemark, SAVESPEC), kept even when no save is there yet: Puppy's
   * PSAVEPART and PSAVEDIR, and where the first save is made.
   */
  private saveTarget: { part: Part; dir: string; from: string } | null = null;
  private saveFolders: string[] = [];
  private saveLayoutOf: "overlay" | "aufs" = "overlay";
  private pupmode = 5;
  private upgrade: Plan["upgrade"] = { status: "none", reason: "no save", clean: false };
  private forcePm5 = false;
  private searchedSaves: SaveCandidate[] = [];

  constructor(private readonly input: PlanInput) {
    this.m = input.machine;
    this.answers = input.answers ?? {};
  }

  run(): Plan {
    let fatal: string | null = null;
    try {
      this.readParams();
      this.readDistro();
      this.chooseUnion();
      this.inv = takeInventory(this.m, this.input.treeFor);
      this.logInventory();
      this.findIso();
      this.findMainSfs();
      this.findOtherSfs();
      if (this.p.pfix.ram) this.log.info("save", "pfix=ram: no save is loaded; everything stays in RAM");
      else {
        this.chooseSavePartition();
        this.findSave();
        this.checkSaveFormat();
        this.checkUpgrade();
        this.chooseFlash();
      }
      this.findExtraSfs();
    } catch (e) {
      if (!(e instanceof Fatal)) throw e;
      fatal = e.message;
      this.log.error("fatal", `${fatal}; dropping to a shell`);
    }
    return this.result(fatal);
  }

  private fatal(topic: string, message: string): never {
    this.log.error(topic, message);
    throw new Fatal(message);
  }

  // --- parameters -----------------------------------------------------------

  private readParams(): void {
    const parsed = parseParams(this.input.cmdline);
    this.p = parsed.params;
    for (const w of parsed.warnings) this.log.warn("cmdline", w);
    for (const l of parsed.log) this.log.info("cmdline", l);
    const p = this.p;
    const given = Object.entries({
      pmedia: p.pmedia, psubdir: p.psubdir, pupsfs: p.pupsfs, psave: p.psave, zdrv: p.zdrv, fdrv: p.fdrv,
      adrv: p.adrv, ydrv: p.ydrv, bdrv: p.bdrv, psavemark: p.psavemark, punionfs: p.punionfs, isofrom: p.isoFile,
    }).filter(([, v]) => v !== null && v !== "");
    this.log.info("cmdline", given.length ? given.map(([k, v]) => `${k}=${v}`).join(" ") : "no Puppy boot parameters");
    const flags = Object.entries(p.pfix).filter(([k, v]) => v === true || (k === "ignoreNewest" && v !== 0));
    if (flags.length) this.log.info("cmdline", `pfix: ${flags.map(([k, v]) => (k === "ignoreNewest" ? String(v) : k)).join(",")}`);
    if (p.waitdev !== 5) this.log.info("cmdline", `waitdev=${p.waitdev}: wait up to ${p.waitdev} s for missing devices`);
  }

  private readDistro(): void {
    const { distro, errors, notes } = parseDistroSpecs(this.m.initrd.DISTRO_SPECS, this.m.kernelRelease);
    for (const n of notes) this.log.warn("distro_specs", n);
    if (!distro) this.fatal("distro_specs", `the initrd's DISTRO_SPECS is unusable: ${errors.join("; ")}`);
    this.distro = distro;
    this.log.info("distro_specs", `${distro.name} ${distro.version}, file prefix ${distro.prefix}, main SFS ${distro.sfs.puppy}`);
    const bootSpecs = this.m.initrd.BOOT_SPECS;
    if (bootSpecs !== undefined && bootSpecs.trim() !== "") {
      if (this.p.pfix.ram) this.log.info("boot_specs", "pfix=ram: BOOT_SPECS is not applied");
      else this.tz = applyBootSpecs(bootSpecs, this.p, this.log).tz;
    }
    if (this.p.pupsfs === null && this.p.root !== null && this.p.isoFile === null) {
      this.p.pupsfs = this.p.root;
      this.p.pupsfsFrom = "root";
      this.log.info("cmdline", `root=${this.p.root} names the partition of the main SFS`);
    }
  }

  private chooseUnion(): void {
    const kfs = this.m.filesystems ?? DEFAULT_FILESYSTEMS;
    const hasAufs = kfs.includes("aufs");
    if (this.p.punionfs === "aufs" && !hasAufs) {
      this.log.warn("union", "punionfs=aufs but the kernel has no aufs: using overlay");
      this.unionfs = "overlay";
    } else if (this.p.punionfs) {
      this.unionfs = this.p.punionfs;
      this.log.info("union", `${this.unionfs} (punionfs)`);
    } else {
      this.unionfs = hasAufs ? "aufs" : "overlay";
      this.log.info("union", hasAufs ? "aufs: the kernel has it" : "overlay: the kernel has no aufs");
    }
  }

  private logInventory(): void {
    const names = this.inv.parts.map((p) => describePart(p));
    this.log.info("devices", names.length ? `partitions in search order: ${names.join(", ")}` : "no usable partitions");
    for (const s of this.inv.skipped) this.log.info("devices", `${s.name} skipped: ${s.reason}`);
  }

  /** Partitions searched when no ID is given; pmedia=usb* really restricts. */
  private searchParts(): Part[] {
    if (this.p.pmedia.startsWith("usb")) {
      const usb = this.inv.parts.filter((p) => p.usb);
      this.log.info("search", `pmedia=${this.p.pmedia}: only USB drives are searched (${usb.map((p) => p.name).join(", ") || "none present"})`);
      return usb;
    }
    return this.inv.parts;
  }

  private resolve(topic: string, id: string, parts: readonly Part[] = this.inv.parts): IdMatch {
    const r = resolveId(id, parts);
    if (r.kind === "found") this.log.info(topic, `${id} is ${describePart(r.part)} (by ${r.how})`);
    return r;
  }

  private ambiguous(r: Extract<IdMatch, { kind: "ambiguous" }>, id: string): string {
    return `'${id}' matches more than one partition by ${r.how}: ${r.candidates.map(describePart).join(" and ")}; give more of it, or the device name`;
  }

  // --- ISO boot --------------------------------------------------------------

  private findIso(): void {
    const file = this.p.isoFile;
    if (file === null) return;
    const path = normalizePath(file);
    const devId = this.p.isoDev ?? this.p.root;
    let hosts: Part[] = this.inv.parts;
    if (devId) {
      const r = this.resolve("iso", devId);
      if (r.kind === "missing") {
        this.pending.push(devId);
        this.fatal("iso", `the partition ${devId} holding the ISO ${path} was not found`);
      }
      if (r.kind === "ambiguous") this.fatal("iso", this.ambiguous(r, devId));
      hosts = [r.part];
    }
    const host = hosts.find((h) => h.tree.stat(path)?.kind === "file");
    if (!host) {
      this.pending.push(path);
      this.fatal("iso", `ISO file ${path} not found on ${hosts.map((h) => h.name).join(", ") || "any partition"}`);
    }
    const st = host.tree.stat(path)!;
    if (!st.image) this.fatal("iso", `${host.name}:${path} cannot be read as an ISO image`);
    const part: Part = { ...host, name: "iso", fstype: st.fstype ?? "iso9660", label: "", uuid: "", optical: false, usb: host.usb, tree: st.image };
    this.iso = { host, path, part };
    this.log.info("iso", `booting from the ISO ${host.name}:${path}`);
    // A SAVESPEC next to the ISO says where the save is; else saves are looked for beside it.
    this.saveDir = dirname(path) === "/" ? "/" : dirname(path) + "/";
  }

  // --- SFS --------------------------------------------------------------------

  private initrdHas(name: string): boolean {
    return (this.m.initrd.files ?? []).some((f) => normalizePath(f) === "/" + name);
  }

  private findMainSfs(): void {
    const d = this.distro!;
    const name = d.sfs.puppy;
    const psub = this.p.psubdir;
    if (this.initrdHas(name)) {
      this.main = { kind: "puppy", source: "initrd", part: null, path: "/" + name, sizeMiB: 0 };
      this.log.info("puppy", `${name} is inside the initrd (humongous initrd)`);
      return;
    }
    if (this.iso) {
      const iso = this.iso.part;
      const spec = this.p.pupsfs ? decodeSpec(this.p.pupsfs, "") : null;
      const path = sfsPathFor(spec && spec.id === "" ? spec : null, name, "");
      const problem = sfsProblem(iso.tree, path);
      if (problem) this.fatal("puppy", `${path} in the ISO ${problem}`);
      this.main = { kind: "puppy", source: "iso", part: iso, path, sizeMiB: iso.tree.stat(path)!.sizeMiB };
      this.log.info("puppy", `${name} found in the ISO at ${path}`);
      return;
    }
    if (this.p.pupsfs !== null) {
      const spec = decodeSpec(this.p.pupsfs, psub);
      const path = sfsPathFor(spec, name, psub);
      let candidates: Part[];
      if (spec.id === "") candidates = this.searchParts();
      else {
        const r = this.resolve("puppy", spec.id);
        if (r.kind === "missing") {
          this.pending.push(spec.id);
          this.fatal("puppy", `${this.p.pupsfsFrom}=${this.p.pupsfs}: no partition ${spec.id}`);
        }
        if (r.kind === "ambiguous") this.fatal("puppy", `${this.p.pupsfsFrom}=${this.p.pupsfs}: ${this.ambiguous(r, spec.id)}`);
        candidates = [r.part];
      }
      for (const part of candidates) {
        const problem = sfsProblem(part.tree, path);
        if (!problem) {
          this.main = { kind: "puppy", source: "partition", part, path, sizeMiB: part.tree.stat(path)!.sizeMiB };
          this.log.info("puppy", `${path} on ${part.name} (${this.p.pupsfsFrom})`);
          return;
        }
        if (candidates.length === 1) this.fatal("puppy", `${part.name}:${path} ${problem} (${this.p.pupsfsFrom}=${this.p.pupsfs})`);
      }
      this.pending.push(path);
      this.fatal("puppy", `${path} not found on ${candidates.map((c) => c.name).join(", ") || "any partition"}`);
    }
    // No ID: search every partition in order.
    const lookSave = this.p.pmedia === "cd" && this.p.psave === null && this.p.psavemark === null;
    if (lookSave) this.log.info("search", "pmedia=cd: saves are looked for on every partition searched");
    const path = joinPath(psub, name);
    const parts = this.searchParts();
    for (const part of parts) {
      if (lookSave) this.collectSaves(part);
      if (this.main) continue;
      const problem = sfsProblem(part.tree, path);
      if (!problem) {
        this.main = { kind: "puppy", source: "partition", part, path, sizeMiB: part.tree.stat(path)!.sizeMiB };
        this.log.info("puppy", `found ${path} on ${describePart(part)}`);
        // Puppy stops here; with pmedia=cd the rest are still checked for saves.
        if (!lookSave) return;
      } else if (part.tree.stat(path)) this.log.warn("puppy", `${part.name}:${path} ${problem}; still searching`);
    }
    if (this.main) return;
    this.pending.push(name);
    this.fatal("puppy", `${name} not found in ${psub || "/"} on any partition (searched: ${parts.map((p) => p.name).join(", ") || "none"})`);
  }

  private collectSaves(part: Part): void {
    const { found } = savesInDir(part, this.p.psubdir || "/", this.distro!.prefix);
    this.searchedSaves.push(...found);
  }

  private findOtherSfs(): void {
    const d = this.distro!;
    const main = this.main!;
    for (const kind of ["adrv", "ydrv", "bdrv", "fdrv", "zdrv"] as const) {
      const value = this.p[kind];
      const def = d.sfs[kind];
      if (value === null) {
        // Default name: in the initrd first, then beside the main SFS.
        if (this.initrdHas(def)) {
          this.sfs.push({ kind, source: "initrd", part: null, path: "/" + def, sizeMiB: 0 });
          this.log.info(kind, `${def} is inside the initrd`);
          continue;
        }
        const part = main.part;
        const path = main.source === "iso" ? joinPath(dirname(main.path), def) : joinPath(this.p.psubdir, def);
        if (part && !sfsProblem(part.tree, path)) {
          this.sfs.push({ kind, source: main.source, part, path, sizeMiB: part.tree.stat(path)!.sizeMiB });
          this.log.info(kind, `${path} on ${part.name}`);
        } else this.log.info(kind, `no ${def}`);
        continue;
      }
      const spec = decodeSpec(value, this.p.psubdir);
      let part: Part | null = main.part;
      if (spec.id !== "") {
        const r = this.resolve(kind, spec.id);
        if (r.kind === "missing") {
          this.pending.push(spec.id);
          this.log.warn(kind, `${kind}=${value}: no partition ${spec.id}; booting without it`);
          continue;
        }
        if (r.kind === "ambiguous") {
          this.log.warn(kind, `${kind}=${value}: ${this.ambiguous(r, spec.id)}; booting without it`);
          continue;
        }
        part = r.part;
      } else if (!part) {
        this.log.warn(kind, `${kind}=${value} names no partition and the main SFS is in the initrd; booting without it`);
        continue;
      }
      const path = sfsPathFor(spec, def, this.p.psubdir);
      const problem = sfsProblem(part.tree, path);
      if (problem) {
        this.log.warn(kind, `${kind}=${value}: ${part.name}:${path} ${problem}; booting without it`);
        continue;
      }
      this.sfs.push({ kind, source: part.name === "iso" ? "iso" : "partition", part, path, sizeMiB: part.tree.stat(path)!.sizeMiB });
      this.log.info(kind, `${path} on ${part.name} (${kind}=${value})`);
    }
    // devx, nlsx and docx are stacked by the init only under overlay; kbuild always.
    if (main.part) {
      for (const kind of ["devx", "nlsx", "docx", "kbuild"] as const) {
        if (kind !== "kbuild" && this.unionfs !== "overlay") continue;
        const path = joinPath(main.source === "iso" ? dirname(main.path) : this.p.psubdir, d.sfs[kind]);
        if (!sfsProblem(main.part.tree, path)) {
          this.sfs.push({ kind, source: main.source, part: main.part, path, sizeMiB: main.part.tree.stat(path)!.sizeMiB });
          this.log.info(kind, `${path} on ${main.part.name}`);
        }
      }
    }
  }

  // --- save -------------------------------------------------------------------

  private readSpecFile(part: Part, path: string): Map<string, string> | undefined {
    const text = part.tree.read(path);
    if (text === undefined) return undefined;
    const { vars, skipped } = parseShellVars(text);
    for (const s of skipped) this.log.warn("save", `${part.name}:${path} line ${s.line} skipped (${s.reason})`);
    return vars;
  }

  private chooseSavePartition(): void {
    const p = this.p;
    const main = this.main!;
    let explicitPath: string | null = null;
    let fromPsave = false;
    if (p.psave !== null) {
      const spec: Spec = decodeSpec(p.psave, p.psubdir);
      if (spec.id === "") this.savePart = main.part && main.source === "partition" ? main.part : this.iso?.host ?? null;
      else {
        const r = this.resolve("save", spec.id);
        if (r.kind === "missing") {
          this.pending.push(spec.id);
          this.log.warn("save", `psave=${p.psave}: no partition ${spec.id}; booting without a save`);
          this.savePart = null;
          this.saveKind = "none";
          return;
        }
        if (r.kind === "ambiguous") {
          this.log.warn("save", `psave=${p.psave}: ${this.ambiguous(r, spec.id)}; booting without a save`);
          return;
        }
        this.savePart = r.part;
      }
      fromPsave = this.savePart !== null;
      if (spec.isDir) this.saveDir = spec.path;
      else if (spec.path !== "") explicitPath = spec.path;
      if (fromPsave) this.saveTarget = { part: this.savePart!, dir: asDir(spec.isDir ? spec.path : explicitPath !== null ? dirname(explicitPath) : p.psubdir), from: "psave" };
      if (fromPsave) this.log.info("save", `psave=${p.psave}: save on ${this.savePart!.name}${spec.isDir ? `, searched in ${spec.path}` : explicitPath ? ` at ${explicitPath}` : ""}`);
    }
    const bootPart = main.source === "partition" ? main.part : null;
    if (!this.savePart && bootPart) {
      // SAVEMARK beside the main SFS wins over psavemark.
      const markPath = joinPath(p.psubdir, "SAVEMARK");
      const markText = bootPart.tree.read(markPath);
      let mark = p.psavemark;
      let from = "psavemark";
      if (markText !== undefined) {
        const t = markText.replace(/\r/g, "").trim();
        if (/^\d+$/.test(t) && Number(t) > 0) {
          mark = Number(t);
          from = `${bootPart.name}:${markPath}`;
        } else this.log.warn("save", `${bootPart.name}:${markPath} holds '${t}', not a partition number; ignored`);
      }
      if (mark !== null) {
        const name = partitionName(bootPart.disk.name, mark);
        const part = this.inv.parts.find((x) => x.name === name);
        if (part) {
          this.savePart = part;
          this.saveDir = (p.psubdir || "") + "/";
          this.saveTarget = { part, dir: asDir(p.psubdir), from };
          this.log.info("save", `${from} = ${mark}: the save is on ${describePart(part)}`);
        } else this.log.warn("save", `${from} = ${mark} names ${name}, which is not a usable partition; ignored`);
      }
    }
    // SAVESPEC (written by the first-save dialog) takes precedence.
    const specHost = this.iso ? this.iso.host : bootPart;
    const specDir = this.iso ? dirname(this.iso.path) : p.psubdir;
    if (specHost) {
      const specPath = joinPath(specDir, "SAVESPEC");
      const ss = this.readSpecFile(specHost, specPath);
      if (ss) {
        this.log.info("save", `reading ${specHost.name}:${specPath}`);
        if (this.iso) p.pmedia = "atahd";
        const ssId = ss.get("SS_ID") ?? "";
        if (ssId) {
          const r = this.resolve("save", ssId);
          if (r.kind === "found") this.savePart = r.part;
          else if (r.kind === "ambiguous") {
            this.log.warn("save", `SAVESPEC SS_ID=${ssId}: ${this.ambiguous(r, ssId)}; booting without a save`);
            this.savePart = null;
            this.saveDir = null;
            this.saveTarget = null;
            return;
          } else {
            this.pending.push(ssId);
            this.log.warn("save", `SAVESPEC SS_ID=${ssId}: no such partition; booting without a save`);
            this.savePart = null;
            this.saveTarget = null;
            return;
          }
        }
        const ssDir = ss.get("SS_DIR");
        if (ssDir !== undefined) {
          this.saveDir = asDir(ssDir);
          explicitPath = null;
        }
        const ssPart = this.savePart ?? bootPart;
        if (ssPart) this.saveTarget = { part: ssPart, dir: this.saveDir ?? asDir(p.psubdir), from: `${specHost.name}:${specPath}` };
        const ssMedia = ss.get("SS_MEDIA");
        if (ssMedia) {
          p.pmedia = ssMedia;
          this.log.info("save", `SAVESPEC sets pmedia=${ssMedia}`);
        }
      } else if (this.iso) p.pmedia = "iso";
    }
    if (!this.savePart && this.searchedSaves.length) {
      const first = this.searchedSaves[0]!;
      this.savePart = first.part;
      this.log.info("save", `found during the search on ${first.part.name}`);
    }
    if (!this.savePart) {
      if (this.iso) this.savePart = this.iso.host;
      else if (bootPart) this.savePart = bootPart;
      if (this.savePart) this.log.info("save", `looking for a save on ${this.savePart.name}, the partition of the main SFS`);
    }
    if (!this.savePart && !bootPart && !this.iso) {
      // The main SFS is in the initrd: look for a save on every partition.
      for (const part of this.inv.parts) this.collectSaves(part);
      if (this.searchedSaves.length) this.savePart = this.searchedSaves[0]!.part;
    }
    this.explicitSavePath = explicitPath;
  }

  private explicitSavePath: string | null = null;

  private findSave(): void {
    const part = this.savePart;
    const prefix = this.distro!.prefix;
    if (!part) {
      this.log.info("save", "no save partition: PUPMODE 5, the session lives in RAM");
      return;
    }
    const dir = this.saveDir ?? ((this.p.psubdir || "") + "/");
    // Archive on FAT/exFAT: PUPMODE 66.
    const archive = archiveSave(part, dir, prefix);
    if (archive) {
      const path = archivePath(dir, prefix);
      this.saveKind = "archive";
      this.pupmode = 66;
      this.saveFolders = [];
      this.save = { part, path, kind: "file", sizeMiB: part.tree.stat(archive === "new" ? `${path}.new` : path)!.sizeMiB };
      this.log.info("save", `archive save ${part.name}:${path}: PUPMODE 66, unpacked into RAM`);
      // The executor unpacks PATH.new then; the next save writes PATH again.
      if (archive === "new") this.log.warn("save", `only ${path}.new is there (a save was cut off while renaming it): using it`);
      return;
    }
    if (part.fstype === "iso9660") {
      const { folders, skipped } = multisessionFolders(part, this.p.pfix.ignoreNewest);
      if (skipped.length) this.log.info("save", `multisession folders left out: ${skipped.join(", ")}`);
      if (folders.length) {
        this.saveKind = "multisession";
        this.pupmode = 77;
        this.saveFolders = folders;
        this.save = { part, path: folders[0]!, kind: "folder", sizeMiB: 0 };
        this.log.info("save", `multisession: ${folders.length} session folder(s) on ${part.name}, newest ${folders[0]}: PUPMODE 77`);
      } else this.log.info("save", `no session folders on ${part.name}`);
      return;
    }
    if (this.p.psubdir === "" && this.explicitSavePath === null && (this.saveDir === null || this.saveDir === "/")) {
      const whole = wholePartitionSave(part);
      if (whole) {
        this.saveKind = "partition";
        this.pupmode = 12;
        this.save = { part, path: "/", kind: "folder", sizeMiB: 0 };
        this.log.info("save", `${part.name} is a whole-partition save (etc/rc.d/PUPSTATE at its root): PUPMODE 12`);
        return;
      }
    }
    if (this.explicitSavePath !== null) {
      const c = classifySave(part, this.explicitSavePath);
      if ("reason" in c) {
        this.log.warn("save", `psave: ${part.name}:${this.explicitSavePath} ${c.reason}; booting without a save`);
        return;
      }
      this.useSave(c, "named by psave");
      return;
    }
    const { found, rejected } = savesInDir(part, dir, prefix);
    for (const r of rejected) this.log.info("save", `${part.name}:${r.path} is not a save: ${r.reason}`);
    if (found.length === 0) {
      this.log.info("save", `no ${prefix}save* in ${part.name}:${dir}: PUPMODE 5, the session lives in RAM`);
      return;
    }
    if (found.length === 1) {
      this.useSave(found[0]!, `the only save in ${dir}`);
      return;
    }
    const options = [{ value: "0", label: "none: boot without a save" }, ...found.map((c, i) => ({ value: String(i + 1), label: `${c.part.name} ${c.path}` }))];
    const answer = this.answers.saveChoice;
    if (answer !== undefined) {
      const n = /^\d+$/.test(answer) ? Number(answer) : -1;
      if (n >= 1 && n <= found.length) {
        this.useSave(found[n - 1]!, `chosen from ${found.length} saves`);
        return;
      }
      this.log.info("save", `answer '${answer}' to the save menu: no save`);
      return;
    }
    this.questions.push({ id: "save-choice", prompt: `${found.length} saves found. Which one?`, options, default: "0", timeoutSec: PROMPT_TIMEOUT_SEC });
    this.log.info("save", `${found.length} saves found (${found.map((c) => c.path).join(", ")}): the user is asked; none is used if nobody answers in ${PROMPT_TIMEOUT_SEC} s`);
  }

  private useSave(c: SaveCandidate, why: string): void {
    this.save = c;
    this.saveKind = c.kind;
    this.pupmode = 12;
    const what = c.kind === "folder" ? "save folder" : `save file (${c.fileFs}${c.encrypted ? ", LUKS encrypted" : ""})`;
    this.log.info("save", `${what} ${c.part.name}:${c.path}, ${why}`);
  }

  /** The tree and directory holding the save layer's files, when readable. */
  private saveRoot(): { tree: FileTree; root: string } | null {
    const s = this.save;
    if (!s) return null;
    if (this.saveKind === "folder" || this.saveKind === "partition") return { tree: s.part.tree, root: s.path };
    if (this.saveKind === "file" && s.image && !(s.encrypted && !this.answers.saveUnlocked)) return { tree: s.image, root: "/" };
    return null;
  }

  /** A save made for the other union type cannot be used safely: boot in RAM. */
  private checkSaveFormat(): void {
    const r = this.saveRoot();
    if (!r || this.pupmode !== 12) return;
    const layout = saveLayout(r.tree, r.root);
    this.saveLayoutOf = this.unionfs;
    if (layout === "empty" || layout === this.unionfs) return;
    this.log.warn("save", `the save ${this.save!.part.name}:${this.save!.path} was made for ${layout}, this boot uses ${this.unionfs}: booting in RAM and leaving the save untouched (boot with punionfs=${layout} to use it)`);
    this.dropSave();
  }

  private dropSave(): void {
    this.save = null;
    this.saveKind = "none";
    this.pupmode = 5;
  }

  /** The save layer's own files (under upper/ for overlay). */
  private layerFile(rel: string): string | undefined {
    const r = this.saveRoot();
    if (!r) return undefined;
    const base = this.unionfs === "overlay" && r.tree.stat(joinPath(r.root, "upper"))?.kind === "dir" ? joinPath(r.root, "upper") : r.root;
    return r.tree.read(joinPath(base, rel));
  }

  private checkUpgrade(): void {
    if (this.pupmode !== 12 || !this.save) return;
    if (this.save.encrypted && !this.answers.saveUnlocked) {
      this.upgrade = { status: "deferred", reason: "the save is encrypted: checked once it is opened", clean: this.p.pfix.clean };
      this.log.info("upgrade", this.upgrade.reason);
      return;
    }
    const v = checkSavedSpecs(this.distro!.vars, this.layerFile("/initrd/DISTRO_SPECS"));
    this.log.info("upgrade", v.reason);
    let clean = this.p.pfix.clean;
    if (clean) this.log.info("upgrade", "pfix=clean: the save layer gets the version-upgrade clean-up");
    if (v.status === "new") this.forcePm5 = true;
    if (v.status === "auto") clean = true;
    if (v.status === "ask") {
      const a = this.answers.upgrade;
      if (a === "yes") {
        this.upgrade = { status: "accepted", reason: v.reason, clean: true };
        this.log.info("upgrade", "the user accepted the save for this version");
        return;
      }
      if (a !== undefined) {
        this.upgrade = { status: "declined", reason: v.reason, clean: false };
        this.log.warn("upgrade", "the user declined: booting in RAM; the save is not touched");
        this.dropSave();
        return;
      }
      this.questions.push(upgradeQuestion(v.reason));
      this.upgrade = { status: "ask", reason: v.reason, clean: false };
      this.log.warn("upgrade", `asking the user; without an answer in ${PROMPT_TIMEOUT_SEC} s the boot stays in RAM and the save is untouched`);
      this.dropSave();
      return;
    }
    this.upgrade = { status: v.status, reason: v.reason, clean };
  }

  private chooseFlash(): void {
    if (this.pupmode !== 12 || !this.save) return;
    const pm = this.p.pmedia;
    const removable = this.save.part.disk.removable;
    if (pm.slice(3) === "flash") {
      this.pupmode = 13;
      this.log.info("save", `pmedia=${pm}: flash mode, PUPMODE 13 (writes stay in RAM until saved)`);
    } else if ((pm === "" || pm === "cd") && removable) {
      this.pupmode = 13;
      this.log.info("save", `${this.save.part.disk.name} is removable: flash mode, PUPMODE 13 (writes stay in RAM until saved)`);
    } else {
      this.log.info("save", `${pm ? `pmedia=${pm}` : `${this.save.part.disk.name} is not removable`}: PUPMODE 12, the save is the writable layer`);
    }
  }

  private findExtraSfs(): void {
    if (!this.save || this.pupmode === 5) return;
    const text = this.layerFile("/etc/rc.d/BOOTCONFIG");
    if (text === undefined) return;
    const list = (parseShellVars(text).vars.get("EXTRASFSLIST") ?? "").split(/\s+/).filter(Boolean);
    const own = new Set(Object.values(this.distro!.sfs));
    const part = this.save.part;
    for (const name of list) {
      if (name.includes("/") || own.has(name)) {
        this.log.warn("extra", `EXTRASFSLIST entry '${name}' ignored: ${name.includes("/") ? "a bare file name is expected" : "it is one of the distro's own SFS"}`);
        continue;
      }
      const path = [joinPath(this.p.psubdir, name), "/" + name].find((x) => !sfsProblem(part.tree, x));
      if (!path) {
        this.log.warn("extra", `${name} from EXTRASFSLIST not found in ${this.p.psubdir || "/"} or / on ${part.name}`);
        continue;
      }
      this.sfs.push({ kind: "extra", source: "partition", part, path, sizeMiB: part.tree.stat(path)!.sizeMiB });
      this.log.info("extra", `${name} on ${part.name} (EXTRASFSLIST)`);
    }
  }

  // --- result -----------------------------------------------------------------

  private result(fatal: string | null): Plan {
    const p = this.p;
    const d = this.distro;
    const copyMode: CopyMode = p.pfix.nocopy ? "no" : p.pfix.copy || p.pfix.ram ? "yes" : "auto";
    const all = [this.main, ...this.sfs].filter((x): x is Located => x !== null);
    const ordered = COPY_PRIORITY.flatMap((k) => all.filter((x) => x.kind === k));
    const keyOf = (x: Located): string => (x.kind === "extra" ? `extra:${basename(x.path)}` : x.kind);
    const copies = fatal ? [] : decideCopies(this.m.ramMiB, copyMode, ordered.map((x): CopyCandidate => ({ key: keyOf(x), sizeMiB: x.sizeMiB, inInitrd: x.source === "initrd" })), this.m.availableMiB);
    if (!fatal) for (const c of copies) this.log.info("copy", `${c.key}: ${c.ram ? "to RAM" : "stays on disk"}: ${c.reason}`);
    const inRam = new Map(copies.map((c) => [c.key, c.ram]));

    const layers: Layer[] = [];
    if (!fatal) layers.push(...this.buildLayers(keyOf, inRam));

    // Partitions that stay mounted: SFS not copied, the save (12/13), the ISO host.
    const keep = new Set<string>();
    for (const x of all) {
      if (x.source === "initrd" || inRam.get(keyOf(x))) continue;
      if (x.source === "iso" && this.iso) keep.add(this.iso.host.name);
      else if (x.part) keep.add(x.part.name);
    }
    if (this.save && (this.pupmode === 12 || this.pupmode === 13)) keep.add(this.save.part.name);
    const keepMounted = [...keep];

    const fsck = fatal ? [] : this.fsckSteps(all);
    const locale = chooseLocale(p.plang, p.pkeys, this.m.initrd);
    if (!fatal) {
      for (const n of locale.notes) this.log.info("locale", n);
      for (const w of locale.warnings) this.log.warn("locale", w);
    }
    const { modules, from } = fatal ? { modules: [], from: null } : this.modules();
    const resizeSave = fatal ? null : this.resize();
    const savePlan = this.savePlan();
    const tmpfsPercent = this.unionfs === "overlay" && (this.pupmode === 13 || this.pupmode === 77) ? 75 : 50;
    const partOf = (x: Located | undefined): string => (x ? `${x.source === "initrd" ? "rootfs" : x.source === "iso" ? "iso" : x.part!.name},${x.source === "initrd" ? "rootfs" : x.part!.fstype},${x.path}` : "");
    const findSfs = (k: SfsKind): Located | undefined => all.find((x) => x.kind === k);

    const pupstate = fatal || !d ? {} : renderPupstate({
      pupmode: this.pupmode,
      pdev1: this.main?.source === "partition" ? this.main.part!.name : this.main?.source === "iso" ? this.iso!.host.name : "rootfs",
      dev1fs: this.main?.source === "partition" ? this.main.part!.fstype : this.main?.source === "iso" ? this.iso!.host.fstype : "rootfs",
      pupsfs: partOf(this.main ?? undefined),
      pupsave: this.save ? `${this.save.part.name},${this.save.part.fstype},${this.saveKind === "partition" ? "" : this.save.path}` : "",
      pmedia: p.pmedia,
      drives: this.m.disks.filter((x) => x.transport !== "cd").map((x) => x.name),
      opticalDrives: this.m.disks.filter((x) => x.transport === "cd").map((x) => x.name),
      saveLayer: this.pupmode === 12 ? "/pup_rw" : this.pupmode === 13 || this.pupmode === 77 ? "/pup_ro1" : "",
      pupHome: this.save && (this.pupmode === 12 || this.pupmode === 13) ? "/mnt/dev_save" : "",
      zdrv: partOf(findSfs("zdrv")), fdrv: partOf(findSfs("fdrv")), adrv: partOf(findSfs("adrv")),
      ydrv: partOf(findSfs("ydrv")), bdrv: partOf(findSfs("bdrv")),
      psavemark: p.psavemark !== null ? String(p.psavemark) : "",
      // Puppy's: empty for a save found beside the main SFS; the given place, even before a save is there.
      psavepart: this.saveTarget?.part.name ?? "",
      psavedir: this.saveTarget?.dir ?? "",
      psubdir: p.psubdir,
      unionfs: this.unionfs,
      lang: locale.lang,
    });
    const prevBootconfig = this.save ? this.layerFile("/etc/rc.d/BOOTCONFIG") : undefined;
    const bootconfig = fatal ? {} : renderBootconfig(prevBootconfig, this.save ? basename(this.save.path) || this.save.part.name : null, layers.filter((l) => l.role !== "rw" && l.role !== "save").map((l) => basename(l.path ?? "")));

    const warnings = this.log.warnings();
    return {
      pupmode: fatal ? 5 : this.pupmode,
      unionfs: this.unionfs,
      layers,
      save: savePlan,
      saveTarget: !fatal && this.saveTarget && !p.pfix.ram ? { partition: this.saveTarget.part.name, fstype: this.saveTarget.part.fstype, dir: this.saveTarget.dir, from: this.saveTarget.from } : null,
      fatal,
      warnings,
      log: this.log.lines(),
      decisions: this.log.entries,
      pending: [...new Set(this.pending)],
      distro: d ? { name: d.name, version: d.version, prefix: d.prefix } : null,
      psubdir: p?.psubdir ?? "",
      pmedia: p?.pmedia ?? "",
      waitdev: p?.waitdev ?? 5,
      bootPartition: this.main ? (this.main.source === "initrd" ? "initrd" : this.main.source === "iso" ? this.iso!.host.name : this.main.part!.name) : null,
      iso: this.iso ? { partition: this.iso.host.name, path: this.iso.path } : null,
      copyMode,
      tmpfsPercent,
      keepMounted,
      mediaRemovable: !fatal && keepMounted.length === 0,
      fsck,
      fsckFlags: fatal ? [] : this.fsckFlagFiles(all),
      resizeSave,
      modules,
      modulesFrom: from,
      keymap: locale.keymap,
      keymapFile: locale.keymapFile,
      lang: locale.lang,
      font: locale.font,
      codepage: locale.codepage,
      upgrade: this.upgrade,
      questions: this.questions,
      flags: {
        rdsh: p?.pfix.rdsh ?? false, nox: p?.pfix.nox ?? false, xorgwizard: p?.pfix.xorgwizard ?? false,
        forcePm5: this.forcePm5, versionUpdate: this.upgrade.clean,
      },
      wireless: p?.wireless ? { ssid: p.wireless.ssid } : null,
      tz: this.tz,
      pupstate,
      bootconfig,
    };
  }

  private buildLayers(keyOf: (x: Located) => string, inRam: Map<string, boolean>): Layer[] {
    const layers: Layer[] = [];
    const s = this.save;
    if (this.pupmode === 12 && s) {
      layers.push({ role: "rw", partition: s.part.name, path: s.path, ram: false, mountpoint: "/pup_rw", source: "save", fstype: s.part.fstype });
    } else {
      layers.push({ role: "rw", partition: null, path: "/mnt/tmpfs/pup_rw", ram: true, mountpoint: "/pup_rw", source: "tmpfs" });
    }
    if (this.pupmode === 13 && s) layers.push({ role: "save", partition: s.part.name, path: s.path, ram: false, mountpoint: "/pup_ro1", source: "save", fstype: s.part.fstype });
    if (this.pupmode === 77 && s) layers.push({ role: "save", partition: null, path: "/mnt/tmpfs/pup_ro1", ram: true, mountpoint: "/pup_ro1", source: "tmpfs" });
    const all = [this.main!, ...this.sfs];
    const layerOf = (x: Located, role: Layer["role"], mountpoint: string): Layer => {
      const l: Layer = {
        role,
        partition: x.source === "initrd" ? null : x.source === "iso" ? "iso" : x.part!.name,
        path: x.path,
        ram: inRam.get(keyOf(x)) ?? false,
        mountpoint,
        source: x.source,
        sizeMiB: x.sizeMiB,
      };
      if (x.part && x.source === "partition") l.fstype = x.part.fstype;
      if (role === "extra") l.kind = x.kind;
      return l;
    };
    const order: SfsKind[] = ["adrv", "ydrv", "bdrv", "puppy", "devx", "nlsx", "docx", "kbuild", "fdrv", "zdrv"];
    for (const kind of order) {
      const x = all.find((y) => y.kind === kind);
      if (!x) continue;
      const role: Layer["role"] = kind === "devx" || kind === "nlsx" || kind === "docx" || kind === "kbuild" ? "extra" : kind;
      layers.push(layerOf(x, role, MOUNTPOINT[kind]));
    }
    let n = 3;
    for (const x of all.filter((y) => y.kind === "extra")) layers.push(layerOf(x, "extra", `/pup_ro${n++}`));
    return layers;
  }

  private savePlan(): SavePlan {
    const s = this.save;
    if (!s || this.saveKind === "none") return { kind: "none", partition: null, path: null, flash: false };
    const plan: SavePlan = { kind: this.saveKind, partition: s.part.name, path: s.path, flash: this.pupmode === 13, fstype: s.part.fstype };
    if (s.fileFs && this.saveKind === "file") plan.fileFs = s.fileFs;
    if (s.encrypted) plan.encrypted = true;
    if (this.saveKind === "multisession") plan.folders = this.saveFolders;
    if (this.saveDir) plan.dir = this.saveDir;
    if (this.saveKind !== "archive" && this.saveKind !== "multisession") plan.layout = this.saveLayoutOf;
    return plan;
  }

  private modules(): { modules: string[]; from: Plan["modulesFrom"] } {
    if (this.p.pimod.length) {
      this.log.info("modules", `pimod: ${this.p.pimod.join(", ")}`);
      return { modules: this.p.pimod, from: "pimod" };
    }
    const part = this.save?.part ?? (this.main?.source === "partition" ? this.main.part : null);
    if (!part) return { modules: [], from: null };
    const dir = this.save && this.saveKind !== "partition" ? dirname(this.save.path) : this.p.psubdir || "/";
    const path = joinPath(dir, `${this.distro!.prefix}initmodules.txt`);
    const text = part.tree.read(path);
    if (text === undefined) return { modules: [], from: null };
    const modules = text.split(/[\s,]+/).filter((w) => w && !w.startsWith("#"));
    this.log.info("modules", `${part.name}:${path}: ${modules.join(", ") || "empty"}`);
    return { modules, from: "initmodules" };
  }

  private resize(): Plan["resizeSave"] {
    const s = this.save;
    if (!s || this.saveKind !== "file" || this.pupmode === 5) return null;
    for (const path of [joinPath(dirname(s.path), "pupsaveresizenew.txt"), "/pupsaveresizenew.txt"]) {
      const text = s.part.tree.read(path);
      if (text === undefined) continue;
      const vars = parseShellVars(text).vars;
      const kib = Number(vars.get("KILOBIG") ?? "");
      const target = vars.get("PUPSAVEFILEX") ?? "";
      const matches = target !== "" && (normalizePath(target) === s.path || basename(target) === basename(s.path));
      if (!matches) continue;
      if (!Number.isInteger(kib) || kib <= 0) {
        this.log.warn("save", `${s.part.name}:${path} asks for a resize of '${vars.get("KILOBIG")}' KiB; ignored`);
        return null;
      }
      this.log.info("save", `${s.part.name}:${path}: the save file grows by ${kib} KiB at this boot`);
      return { kib };
    }
    return null;
  }

  /** Partitions the init mounts: where SFS files are, and the save. */
  private mountedParts(all: Located[]): Part[] {
    const parts = new Map<string, Part>();
    for (const x of all) if (x.part && x.source === "partition") parts.set(x.part.name, x.part);
    if (this.iso) parts.set(this.iso.host.name, this.iso.host);
    if (this.save) parts.set(this.save.part.name, this.save.part);
    return [...parts.values()];
  }

  private fsckFlagFiles(all: Located[]): string[] {
    return this.mountedParts(all).filter((x) => x.tree.stat("/fsckme.flg")?.kind === "file").map((x) => `${x.name}:/fsckme.flg`);
  }

  private fsckSteps(all: Located[]): FsckStep[] {
    const steps: FsckStep[] = [];
    const done = new Set<string>();
    let saveFile = false;
    for (const part of this.mountedParts(all)) {
      if (this.p.pfix.fsckp && FSCK_FS.includes(part.fstype)) {
        steps.push({ target: part.name, reason: "pfix=fsckp" });
        done.add(part.name);
      }
      const flag = part.tree.read("/fsckme.flg");
      if (flag === undefined) continue;
      const [, fs = "", file = ""] = flag.trim().split(",");
      this.log.info("fsck", `${part.name}:/fsckme.flg: the last shutdown was not clean`);
      if (!done.has(part.name) && FSCK_FS.includes(fs || part.fstype)) {
        steps.push({ target: part.name, reason: "fsckme.flg: unclean shutdown" });
        done.add(part.name);
      }
      if (file) saveFile = true;
    }
    const s = this.save;
    if (s && this.saveKind === "file" && this.pupmode !== 5 && (this.p.pfix.fsck || saveFile)) {
      steps.push({ target: `savefile:${s.part.name}:${s.path}`, reason: this.p.pfix.fsck ? "pfix=fsck" : "fsckme.flg: unclean shutdown" });
    }
    for (const st of steps) this.log.info("fsck", `check ${st.target} (${st.reason})`);
    return steps;
  }
}
