// The save: where it is (psave, SAVEMARK/psavemark, SAVESPEC, the search),
// which one it is, whether this boot can use it (union format, version), and
// flash mode. Each step takes the save so far and returns the next.

import type { Part } from "../devices.js";
import { describePart, partitionName } from "../devices.js";
import type { DistroInfo } from "../distro.js";
import { UPPER_DIR } from "../overlay.js";
import type { BootParams } from "../params.js";
import { partitionNumber } from "../params.js";
import type { SaveCandidate } from "../save.js";
import {
  archivePath,
  archiveSave,
  classifySave,
  multisessionFolders,
  saveLayout,
  savesInDir,
  wholePartitionSave,
} from "../save.js";
import { parseShellVars } from "../shellvars.js";
import { decodeSpec } from "../spec.js";
import type { FileTree } from "../tree.js";
import { dirname, joinPath } from "../tree.js";
import type { Plan, Question, SaveKind } from "../types.js";
import { checkSavedSpecs } from "../upgrade.js";
import type { Answers, Ctx } from "./context.js";
import { asDir, namedPart } from "./context.js";
import type { IsoBoot } from "./iso.js";
import type { Union } from "./params.js";
import { PROMPT_TIMEOUT_SEC, saveChoiceQuestion, upgradeQuestion } from "./questions.js";
import type { Located } from "./sfs.js";
import { savesOn } from "./sfs.js";

/** Where a save is looked for, and where the first save goes when its place was given. */
export interface SavePlace {
  part: Part | null;
  /** The directory searched (psave=ID:/dir/, SAVEMARK, SAVESPEC, beside the ISO). */
  dir: string | null;
  /** A save named by psave=ID:/path. */
  explicitPath: string | null;
  /**
   * Where the save goes when its place was given (psave, SAVEMARK or
   * psavemark, SAVESPEC), kept even when no save is there yet: Puppy's
   * PSAVEPART and PSAVEDIR, and where the first save is made.
   */
  target: SaveTarget | null;
  /** pmedia after SAVESPEC (SS_MEDIA; atahd or iso for an ISO boot). */
  pmedia: string;
}

export interface SaveTarget {
  part: Part;
  dir: string;
  from: string;
}

/** The save this boot uses. */
export interface ChosenSave {
  cand: SaveCandidate;
  kind: Exclude<SaveKind, "none">;
  /** Multisession folders, newest first. */
  folders: string[];
  /** PUPMODE 13: the save stays below a RAM layer until saved. */
  flash: boolean;
}

/** PUPMODE follows from the save: none 5, archive 66, multisession 77, flash 13, else 12. */
export function pupmodeOf(save: ChosenSave | null): number {
  if (!save) return 5;
  if (save.kind === "archive") return 66;
  if (save.kind === "multisession") return 77;
  return save.flash ? 13 : 12;
}

/** A save that is the writable layer, or below it in flash mode (12, 13): its partition stays mounted. */
export const isLayerSave = (save: ChosenSave | null): save is ChosenSave =>
  save !== null && (save.kind === "folder" || save.kind === "file" || save.kind === "partition");

function readSpecFile(ctx: Ctx, part: Part, path: string): Map<string, string> | undefined {
  const text = part.tree.read(path);
  if (text === undefined) return undefined;
  const { vars, skipped } = parseShellVars(text);
  for (const s of skipped) ctx.log.warn("save", `${part.name}:${path} line ${s.line} skipped (${s.reason})`);
  return vars;
}

/**
 * The partition and directory of the save: psave, then SAVEMARK (or
 * psavemark), then SAVESPEC, which takes precedence; else a save found
 * during the search, else the partition of the main SFS (or of the ISO).
 */
export function chooseSavePlace(
  ctx: Ctx,
  p: BootParams,
  distro: DistroInfo,
  parts: Part[],
  main: Located,
  iso: IsoBoot | null,
  searchedSaves: SaveCandidate[],
): SavePlace {
  let part: Part | null = null;
  // An ISO's SAVESPEC says where the save is; else saves are looked for beside it.
  let dir: string | null = iso ? asDir(dirname(iso.path)) : null;
  let explicitPath: string | null = null;
  let target: SaveTarget | null = null;
  let pmedia = p.pmedia;
  const noSave = (): SavePlace => ({ part: null, dir: null, explicitPath: null, target: null, pmedia });
  if (p.psave !== null) {
    const spec = decodeSpec(p.psave, p.psubdir);
    if (spec.id === "") part = main.part && main.source === "partition" ? main.part : (iso?.host ?? null);
    else {
      part = namedPart(ctx, parts, {
        topic: "save",
        id: spec.id,
        given: `psave=${p.psave}`,
        otherwise: "booting without a save",
      });
      if (!part) return noSave();
    }
    if (spec.isDir) dir = spec.path;
    else if (spec.path !== "") explicitPath = spec.path;
    if (part) {
      target = {
        part,
        dir: asDir(spec.isDir ? spec.path : explicitPath !== null ? dirname(explicitPath) : p.psubdir),
        from: "psave",
      };
      ctx.log.info(
        "save",
        `psave=${p.psave}: save on ${part.name}${spec.isDir ? `, searched in ${spec.path}` : explicitPath ? ` at ${explicitPath}` : ""}`,
      );
    }
  }
  const bootPart = main.source === "partition" ? main.part : null;
  if (!part && bootPart) {
    // SAVEMARK beside the main SFS wins over psavemark.
    const markPath = joinPath(p.psubdir, "SAVEMARK");
    const markText = bootPart.tree.read(markPath);
    let mark = p.psavemark;
    let from = "psavemark";
    if (markText !== undefined) {
      const t = markText.replace(/\r/g, "").trim();
      const n = partitionNumber(t);
      if (n !== null) {
        mark = n;
        from = `${bootPart.name}:${markPath}`;
      } else ctx.log.warn("save", `${bootPart.name}:${markPath} holds '${t}', not a partition number; ignored`);
    }
    if (mark !== null) {
      const name = partitionName(bootPart.disk.name, mark);
      const marked = parts.find((x) => x.name === name);
      if (marked) {
        part = marked;
        dir = (p.psubdir || "") + "/";
        target = { part: marked, dir: asDir(p.psubdir), from };
        ctx.log.info("save", `${from} = ${mark}: the save is on ${describePart(marked)}`);
      } else {
        // Not there yet (a card's partitions appear one by one): the init waits for it, up to waitdev.
        if (!ctx.machine.disks.some((d) => d.partitions.some((x) => x.name === name))) ctx.pending.push(name);
        ctx.log.warn("save", `${from} = ${mark} names ${name}, which is not a usable partition; ignored`);
      }
    }
  }
  // SAVESPEC (written by the first-save dialog) takes precedence.
  const specHost = iso ? iso.host : bootPart;
  if (specHost) {
    const specPath = joinPath(iso ? dirname(iso.path) : p.psubdir, "SAVESPEC");
    const ss = readSpecFile(ctx, specHost, specPath);
    if (ss) {
      ctx.log.info("save", `reading ${specHost.name}:${specPath}`);
      if (iso) pmedia = "atahd";
      const ssId = ss.get("SS_ID") ?? "";
      if (ssId) {
        part = namedPart(ctx, parts, {
          topic: "save",
          id: ssId,
          given: `SAVESPEC SS_ID=${ssId}`,
          missing: "no such partition",
          otherwise: "booting without a save",
        });
        if (!part) return noSave();
      }
      const ssDir = ss.get("SS_DIR");
      if (ssDir !== undefined) {
        dir = asDir(ssDir);
        explicitPath = null;
      }
      const ssPart = part ?? bootPart;
      if (ssPart) target = { part: ssPart, dir: dir ?? asDir(p.psubdir), from: `${specHost.name}:${specPath}` };
      const ssMedia = ss.get("SS_MEDIA");
      if (ssMedia) {
        pmedia = ssMedia;
        ctx.log.info("save", `SAVESPEC sets pmedia=${ssMedia}`);
      }
    } else if (iso) pmedia = "iso";
  }
  if (!part && searchedSaves.length) {
    part = searchedSaves[0]!.part;
    ctx.log.info("save", `found during the search on ${part.name}`);
  }
  if (!part) {
    part = iso?.host ?? bootPart;
    if (part) ctx.log.info("save", `looking for a save on ${part.name}, the partition of the main SFS`);
  }
  if (!part && !iso) {
    // The main SFS is in the initrd: look for a save on every partition.
    part = parts.flatMap((x) => savesOn(x, p, distro))[0]?.part ?? null;
  }
  return { part, dir, explicitPath, target, pmedia };
}

/**
 * The save on the chosen partition: an archive (FAT/exFAT), multisession
 * folders (optical), a whole-partition save, the one psave names, or the
 * only (or chosen) PREFIXsave* in the directory. Several: the user is asked.
 */
export function findSave(
  ctx: Ctx,
  p: BootParams,
  distro: DistroInfo,
  place: SavePlace,
): { save: ChosenSave | null; question: Question | null } {
  const part = place.part;
  const prefix = distro.prefix;
  const none = { save: null, question: null };
  if (!part) {
    ctx.log.info("save", "no save partition: PUPMODE 5, the session lives in RAM");
    return none;
  }
  const chosen = (cand: SaveCandidate, kind: ChosenSave["kind"], folders: string[] = []) => ({
    save: { cand, kind, folders, flash: false },
    question: null,
  });
  const use = (c: SaveCandidate, why: string) => {
    const what =
      c.kind === "folder" ? "save folder" : `save file (${c.fileFs}${c.encrypted ? ", LUKS encrypted" : ""})`;
    ctx.log.info("save", `${what} ${c.part.name}:${c.path}, ${why}`);
    return chosen(c, c.kind);
  };
  const dir = place.dir ?? (p.psubdir || "") + "/";
  // Archive on FAT/exFAT: PUPMODE 66.
  const archive = archiveSave(part, dir, prefix);
  if (archive) {
    const path = archivePath(dir, prefix);
    const cand: SaveCandidate = {
      part,
      path,
      kind: "file",
      sizeMiB: part.tree.stat(archive === "new" ? `${path}.new` : path)!.sizeMiB,
    };
    ctx.log.info("save", `archive save ${part.name}:${path}: PUPMODE 66, unpacked into RAM`);
    // The executor unpacks PATH.new then; the next save writes PATH again.
    if (archive === "new")
      ctx.log.warn("save", `only ${path}.new is there (a save was cut off while renaming it): using it`);
    return chosen(cand, "archive");
  }
  if (part.fstype === "iso9660") {
    const { folders, skipped } = multisessionFolders(part, p.pfix.ignoreNewest);
    if (skipped.length) ctx.log.info("save", `multisession folders left out: ${skipped.join(", ")}`);
    if (!folders.length) {
      ctx.log.info("save", `no session folders on ${part.name}`);
      return none;
    }
    ctx.log.info(
      "save",
      `multisession: ${folders.length} session folder(s) on ${part.name}, newest ${folders[0]}: PUPMODE 77`,
    );
    return chosen({ part, path: folders[0]!, kind: "folder", sizeMiB: 0 }, "multisession", folders);
  }
  if (
    p.psubdir === "" &&
    place.explicitPath === null &&
    (place.dir === null || place.dir === "/") &&
    wholePartitionSave(part)
  ) {
    ctx.log.info("save", `${part.name} is a whole-partition save (etc/rc.d/PUPSTATE at its root): PUPMODE 12`);
    return chosen({ part, path: "/", kind: "folder", sizeMiB: 0 }, "partition");
  }
  if (place.explicitPath !== null) {
    const c = classifySave(part, place.explicitPath);
    if ("reason" in c) {
      ctx.log.warn("save", `psave: ${part.name}:${place.explicitPath} ${c.reason}; booting without a save`);
      return none;
    }
    return use(c, "named by psave");
  }
  const { found, rejected } = savesInDir(part, dir, prefix);
  for (const r of rejected) ctx.log.info("save", `${part.name}:${r.path} is not a save: ${r.reason}`);
  if (found.length === 0) {
    ctx.log.info("save", `no ${prefix}save* in ${part.name}:${dir}: PUPMODE 5, the session lives in RAM`);
    return none;
  }
  if (found.length === 1) return use(found[0]!, `the only save in ${dir}`);
  const answer = ctx.answers.saveChoice;
  if (answer !== undefined) {
    const n = /^\d+$/.test(answer) ? Number(answer) : -1;
    if (n >= 1 && n <= found.length) return use(found[n - 1]!, `chosen from ${found.length} saves`);
    ctx.log.info("save", `answer '${answer}' to the save menu: no save`);
    return none;
  }
  ctx.log.info(
    "save",
    `${found.length} saves found (${found.map((c) => c.path).join(", ")}): the user is asked; none is used if nobody answers in ${PROMPT_TIMEOUT_SEC} s`,
  );
  return { save: null, question: saveChoiceQuestion(found.map((c) => `${c.part.name} ${c.path}`)) };
}

/** The tree and directory holding the save layer's files, when readable. */
function saveRoot(save: ChosenSave | null, answers: Answers): { tree: FileTree; root: string } | null {
  if (!save) return null;
  const s = save.cand;
  if (save.kind === "folder" || save.kind === "partition") return { tree: s.part.tree, root: s.path };
  if (save.kind === "file" && s.image && !(s.encrypted && !answers.saveUnlocked)) return { tree: s.image, root: "/" };
  return null;
}

/** A file of the save layer itself (under upper/ for overlay), when readable. */
export function layerFile(save: ChosenSave | null, union: Union, answers: Answers, rel: string): string | undefined {
  const r = saveRoot(save, answers);
  if (!r) return undefined;
  const upper = joinPath(r.root, UPPER_DIR);
  const base = union === "overlay" && r.tree.stat(upper)?.kind === "dir" ? upper : r.root;
  return r.tree.read(joinPath(base, rel));
}

/**
 * A save made for the other union type cannot be used safely: boot in RAM.
 * The layout recorded in the plan is the union's once the save was checked.
 */
export function checkSaveFormat(
  ctx: Ctx,
  save: ChosenSave | null,
  union: Union,
): { save: ChosenSave | null; layout: Union } {
  const r = saveRoot(save, ctx.answers);
  if (!r || !isLayerSave(save)) return { save, layout: "overlay" };
  const layout = saveLayout(r.tree, r.root);
  if (layout === "empty" || layout === union) return { save, layout: union };
  ctx.log.warn(
    "save",
    `the save ${save.cand.part.name}:${save.cand.path} was made for ${layout}, this boot uses ${union}: booting in RAM and leaving the save untouched (boot with punionfs=${layout} to use it)`,
  );
  return { save: null, layout: union };
}

export interface UpgradeCheck {
  save: ChosenSave | null;
  upgrade: Plan["upgrade"];
  /** The save has no DISTRO_SPECS yet (a new save): the first boot is PUPMODE 5-like. */
  forcePm5: boolean;
  question: Question | null;
}

/** A save of another version: cleaned up, asked about, or left alone (then the boot stays in RAM). */
export function checkUpgrade(
  ctx: Ctx,
  p: BootParams,
  distro: DistroInfo,
  save: ChosenSave | null,
  union: Union,
): UpgradeCheck {
  const result = (
    upgrade: Plan["upgrade"],
    keep = true,
    question: Question | null = null,
    forcePm5 = false,
  ): UpgradeCheck => ({ save: keep ? save : null, upgrade, forcePm5, question });
  if (!isLayerSave(save)) return result({ status: "none", reason: "no save", clean: false });
  if (save.cand.encrypted && !ctx.answers.saveUnlocked) {
    const upgrade = {
      status: "deferred" as const,
      reason: "the save is encrypted: checked once it is opened",
      clean: p.pfix.clean,
    };
    ctx.log.info("upgrade", upgrade.reason);
    return result(upgrade);
  }
  const v = checkSavedSpecs(distro.vars, layerFile(save, union, ctx.answers, "/initrd/DISTRO_SPECS"));
  ctx.log.info("upgrade", v.reason);
  if (p.pfix.clean) ctx.log.info("upgrade", "pfix=clean: the save layer gets the version-upgrade clean-up");
  if (v.status === "ask") {
    const a = ctx.answers.upgrade;
    if (a === "yes") {
      ctx.log.info("upgrade", "the user accepted the save for this version");
      return result({ status: "accepted", reason: v.reason, clean: true });
    }
    if (a !== undefined) {
      ctx.log.warn("upgrade", "the user declined: booting in RAM; the save is not touched");
      return result({ status: "declined", reason: v.reason, clean: false }, false);
    }
    ctx.log.warn(
      "upgrade",
      `asking the user; without an answer in ${PROMPT_TIMEOUT_SEC} s the boot stays in RAM and the save is untouched`,
    );
    return result({ status: "ask", reason: v.reason, clean: false }, false, upgradeQuestion(v.reason));
  }
  return result(
    { status: v.status, reason: v.reason, clean: p.pfix.clean || v.status === "auto" },
    true,
    null,
    v.status === "new",
  );
}

/** Flash mode (PUPMODE 13) for *flash media and removable drives: writes stay in RAM until saved. */
export function chooseFlash(ctx: Ctx, pmedia: string, save: ChosenSave | null): ChosenSave | null {
  if (!isLayerSave(save)) return save;
  const disk = save.cand.part.disk;
  if (pmedia.slice(3) === "flash") {
    ctx.log.info("save", `pmedia=${pmedia}: flash mode, PUPMODE 13 (writes stay in RAM until saved)`);
    return { ...save, flash: true };
  }
  if ((pmedia === "" || pmedia === "cd") && disk.removable) {
    ctx.log.info("save", `${disk.name} is removable: flash mode, PUPMODE 13 (writes stay in RAM until saved)`);
    return { ...save, flash: true };
  }
  ctx.log.info(
    "save",
    `${pmedia ? `pmedia=${pmedia}` : `${disk.name} is not removable`}: PUPMODE 12, the save is the writable layer`,
  );
  return save;
}
