// Work the init does on the way: filesystem checks (pfix=fsck/fsckp and
// fsckme.flg), kernel modules to load first (pimod, PREFIXinitmodules.txt),
// and a save file's resize (pupsaveresizenew.txt).

import type { Part } from "../devices.js";
import type { DistroInfo } from "../distro.js";
import { canFsck } from "../filesystems.js";
import { FSCK_FLAG, parseFsckFlag } from "../layout.js";
import type { BootParams } from "../params.js";
import { parseShellVars } from "../shellvars.js";
import { basename, dirname, joinPath, normalizePath } from "../tree.js";
import type { FsckStep, Plan } from "../types.js";
import type { Ctx } from "./context.js";
import type { IsoBoot } from "./iso.js";
import type { ChosenSave } from "./save.js";
import type { Located } from "./sfs.js";

/** Partitions the init mounts: where SFS files are, the ISO's, and the save's. */
export function mountedParts(all: Located[], iso: IsoBoot | null, save: ChosenSave | null): Part[] {
  const parts = new Map<string, Part>();
  for (const x of all) if (x.part && x.source === "partition") parts.set(x.part.name, x.part);
  if (iso) parts.set(iso.host.name, iso.host);
  if (save) parts.set(save.cand.part.name, save.cand.part);
  return [...parts.values()];
}

/** fsckme.flg files to remove once read, as partition:path. */
export function fsckFlagFiles(mounted: Part[]): string[] {
  return mounted.filter((x) => x.tree.stat(FSCK_FLAG)?.kind === "file").map((x) => `${x.name}:${FSCK_FLAG}`);
}

/** pfix=fsckp checks every mounted partition that can be; fsckme.flg (an unclean shutdown) its own; pfix=fsck the save file. */
export function fsckSteps(ctx: Ctx, p: BootParams, mounted: Part[], save: ChosenSave | null): FsckStep[] {
  const steps: FsckStep[] = [];
  const done = new Set<string>();
  let saveFile = false;
  for (const part of mounted) {
    if (p.pfix.fsckp && canFsck(part.fstype)) {
      steps.push({ target: part.name, reason: "pfix=fsckp" });
      done.add(part.name);
    }
    const flag = part.tree.read(FSCK_FLAG);
    if (flag === undefined) continue;
    const { fstype: fs, file } = parseFsckFlag(flag);
    ctx.log.info("fsck", `${part.name}:${FSCK_FLAG}: the last shutdown was not clean`);
    if (!done.has(part.name) && canFsck(fs || part.fstype)) {
      steps.push({ target: part.name, reason: "fsckme.flg: unclean shutdown" });
      done.add(part.name);
    }
    if (file) saveFile = true;
  }
  if (save?.kind === "file" && (p.pfix.fsck || saveFile)) {
    steps.push({
      target: `savefile:${save.cand.part.name}:${save.cand.path}`,
      reason: p.pfix.fsck ? "pfix=fsck" : "fsckme.flg: unclean shutdown",
    });
  }
  for (const st of steps) ctx.log.info("fsck", `check ${st.target} (${st.reason})`);
  return steps;
}

/** pimod, else PREFIXinitmodules.txt beside the save (or in psubdir on the main SFS partition). */
export function initModules(
  ctx: Ctx,
  p: BootParams,
  distro: DistroInfo,
  main: Located,
  save: ChosenSave | null,
): { modules: string[]; from: Plan["modulesFrom"] } {
  if (p.pimod.length) {
    ctx.log.info("modules", `pimod: ${p.pimod.join(", ")}`);
    return { modules: p.pimod, from: "pimod" };
  }
  const part = save?.cand.part ?? (main.source === "partition" ? main.part : null);
  if (!part) return { modules: [], from: null };
  const dir = save && save.kind !== "partition" ? dirname(save.cand.path) : p.psubdir || "/";
  const path = joinPath(dir, `${distro.prefix}initmodules.txt`);
  const text = part.tree.read(path);
  if (text === undefined) return { modules: [], from: null };
  const modules = text.split(/[\s,]+/).filter((w) => w && !w.startsWith("#"));
  ctx.log.info("modules", `${part.name}:${path}: ${modules.join(", ") || "empty"}`);
  return { modules, from: "initmodules" };
}

/** pupsaveresizenew.txt (beside the save file, or at the root) asks to grow this save file by KILOBIG KiB. */
export function saveResize(ctx: Ctx, save: ChosenSave | null): Plan["resizeSave"] {
  if (save?.kind !== "file") return null;
  const s = save.cand;
  for (const path of [joinPath(dirname(s.path), "pupsaveresizenew.txt"), "/pupsaveresizenew.txt"]) {
    const text = s.part.tree.read(path);
    if (text === undefined) continue;
    const vars = parseShellVars(text).vars;
    const kib = Number(vars.get("KILOBIG") ?? "");
    const target = vars.get("PUPSAVEFILEX") ?? "";
    const matches = target !== "" && (normalizePath(target) === s.path || basename(target) === basename(s.path));
    if (!matches) continue;
    if (!Number.isInteger(kib) || kib <= 0) {
      ctx.log.warn("save", `${s.part.name}:${path} asks for a resize of '${vars.get("KILOBIG")}' KiB; ignored`);
      return null;
    }
    ctx.log.info("save", `${s.part.name}:${path}: the save file grows by ${kib} KiB at this boot`);
    return { kib };
  }
  return null;
}
