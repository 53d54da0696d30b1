// The SFS layers: the main puppy_*.sfs (fatal when missing), the optional
// a/y/b/f/zdrv, devx and friends beside the main SFS, and the save's
// EXTRASFSLIST.

import type { Part } from "../devices.js";
import { describePart } from "../devices.js";
import type { DistroInfo, SfsKind } from "../distro.js";
import type { BootParams } from "../params.js";
import { TASK_NAME } from "../params.js";
import type { SaveCandidate } from "../save.js";
import { savesInDir } from "../save.js";
import { extraSfsList } from "../handover.js";
import { parseShellVars } from "../shellvars.js";
import { decodeSpec, sfsPathFor, sfsProblem } from "../spec.js";
import { basename, dirname, joinPath } from "../tree.js";
import type { Ctx } from "./context.js";
import { fatal, initrdHas, namedPart, searchParts } from "./context.js";
import type { IsoBoot } from "./iso.js";
import type { Union } from "./params.js";

/** Where an SFS was found. */
export interface Located {
  kind: SfsKind | "extra" | "task";
  source: "partition" | "initrd" | "iso";
  part: Part | null;
  path: string;
  sizeMiB: number;
}

const onPart = (kind: Located["kind"], source: Located["source"], part: Part, path: string): Located => ({
  kind,
  source,
  part,
  path,
  sizeMiB: part.tree.stat(path)!.sizeMiB,
});
const inInitrd = (kind: Located["kind"], name: string): Located => ({
  kind,
  source: "initrd",
  part: null,
  path: "/" + name,
  sizeMiB: 0,
});

/**
 * The main SFS: in the initrd, in the ISO, where pupsfs (or pdrv, pdev1,
 * root=) says, or the first partition that has it. With pmedia=cd the search
 * also collects the saves on every partition it looks at.
 */
export function findMainSfs(
  ctx: Ctx,
  p: BootParams,
  distro: DistroInfo,
  parts: Part[],
  iso: IsoBoot | null,
): { main: Located; searchedSaves: SaveCandidate[] } {
  const name = distro.sfs.puppy;
  const psub = p.psubdir;
  if (initrdHas(ctx.machine, name)) {
    ctx.log.info("puppy", `${name} is inside the initrd (humongous initrd)`);
    return { main: inInitrd("puppy", name), searchedSaves: [] };
  }
  if (iso) {
    const spec = p.pupsfs ? decodeSpec(p.pupsfs, "") : null;
    const path = sfsPathFor(spec && spec.id === "" ? spec : null, name, "");
    const problem = sfsProblem(iso.part.tree, path);
    if (problem) fatal(ctx, "puppy", `${path} in the ISO ${problem}`);
    ctx.log.info("puppy", `${name} found in the ISO at ${path}`);
    return { main: onPart("puppy", "iso", iso.part, path), searchedSaves: [] };
  }
  if (p.pupsfs !== null) {
    const spec = decodeSpec(p.pupsfs, psub);
    const path = sfsPathFor(spec, name, psub);
    const given = `${p.pupsfsFrom}=${p.pupsfs}`;
    const candidates =
      spec.id === ""
        ? searchParts(ctx, parts, p.pmedia)
        : [namedPart(ctx, parts, { topic: "puppy", id: spec.id, given })!];
    for (const part of candidates) {
      const problem = sfsProblem(part.tree, path);
      if (!problem) {
        ctx.log.info("puppy", `${path} on ${part.name} (${p.pupsfsFrom})`);
        return { main: onPart("puppy", "partition", part, path), searchedSaves: [] };
      }
      if (candidates.length === 1) fatal(ctx, "puppy", `${part.name}:${path} ${problem} (${given})`);
    }
    ctx.pending.push(path);
    fatal(ctx, "puppy", `${path} not found on ${candidates.map((c) => c.name).join(", ") || "any partition"}`);
  }
  // No ID: search every partition in order.
  const lookSave = p.pmedia === "cd" && p.psave === null && p.psavemark === null;
  if (lookSave) ctx.log.info("search", "pmedia=cd: saves are looked for on every partition searched");
  const path = joinPath(psub, name);
  const searched = searchParts(ctx, parts, p.pmedia);
  const searchedSaves: SaveCandidate[] = [];
  let main: Located | null = null;
  for (const part of searched) {
    if (lookSave) searchedSaves.push(...savesOn(part, p, distro));
    if (main) continue;
    const problem = sfsProblem(part.tree, path);
    if (!problem) {
      main = onPart("puppy", "partition", part, path);
      ctx.log.info("puppy", `found ${path} on ${describePart(part)}`);
      // Puppy stops here; with pmedia=cd the rest are still checked for saves.
      if (!lookSave) break;
    } else if (part.tree.stat(path)) ctx.log.warn("puppy", `${part.name}:${path} ${problem}; still searching`);
  }
  if (main) return { main, searchedSaves };
  ctx.pending.push(name);
  fatal(
    ctx,
    "puppy",
    `${name} not found in ${psub || "/"} on any partition (searched: ${searched.map((x) => x.name).join(", ") || "none"})`,
  );
}

/** The saves in psubdir on a partition (the pmedia=cd search, and a main SFS in the initrd). */
export function savesOn(part: Part, p: BootParams, distro: DistroInfo): SaveCandidate[] {
  return savesInDir(part, p.psubdir || "/", distro.prefix).found;
}

/** The other SFS: a/y/b/f/zdrv by parameter or default name, then devx, nlsx, docx and kbuild beside the main SFS. */
export function findOtherSfs(
  ctx: Ctx,
  p: BootParams,
  distro: DistroInfo,
  parts: Part[],
  main: Located,
  union: Union,
): Located[] {
  const found: Located[] = [];
  for (const kind of ["adrv", "ydrv", "bdrv", "fdrv", "zdrv"] as const) {
    const value = p[kind];
    const def = distro.sfs[kind];
    if (value === null) {
      // Default name: in the initrd first, then beside the main SFS.
      if (initrdHas(ctx.machine, def)) {
        found.push(inInitrd(kind, def));
        ctx.log.info(kind, `${def} is inside the initrd`);
        continue;
      }
      const part = main.part;
      const path = main.source === "iso" ? joinPath(dirname(main.path), def) : joinPath(p.psubdir, def);
      if (part && !sfsProblem(part.tree, path)) {
        found.push(onPart(kind, main.source, part, path));
        ctx.log.info(kind, `${path} on ${part.name}`);
      } else ctx.log.info(kind, `no ${def}`);
      continue;
    }
    const spec = decodeSpec(value, p.psubdir);
    const given = `${kind}=${value}`;
    const otherwise = "booting without it";
    const part = spec.id !== "" ? namedPart(ctx, parts, { topic: kind, id: spec.id, given, otherwise }) : main.part;
    if (!part) {
      if (spec.id === "")
        ctx.log.warn(kind, `${given} names no partition and the main SFS is in the initrd; ${otherwise}`);
      continue;
    }
    const path = sfsPathFor(spec, def, p.psubdir);
    const problem = sfsProblem(part.tree, path);
    if (problem) {
      ctx.log.warn(kind, `${given}: ${part.name}:${path} ${problem}; ${otherwise}`);
      continue;
    }
    found.push(onPart(kind, part.name === "iso" ? "iso" : "partition", part, path));
    ctx.log.info(kind, `${path} on ${part.name} (${given})`);
  }
  // devx, nlsx and docx are stacked by the init only under overlay; kbuild always.
  if (main.part) {
    for (const kind of ["devx", "nlsx", "docx", "kbuild"] as const) {
      if (kind !== "kbuild" && union !== "overlay") continue;
      const path = joinPath(main.source === "iso" ? dirname(main.path) : p.psubdir, distro.sfs[kind]);
      if (!sfsProblem(main.part.tree, path)) {
        found.push(onPart(kind, main.source, main.part, path));
        ctx.log.info(kind, `${path} on ${main.part.name}`);
      }
    }
  }
  return found;
}

/** ptask=NAME,...: each task's layer, NAME_PREFIX_VERSION.sfs beside the main SFS (ramstack build --task). */
export function findTaskSfs(ctx: Ctx, p: BootParams, distro: DistroInfo, main: Located): Located[] {
  if (!p.ptask.length) return [];
  if (main.source !== "partition" || !main.part) {
    ctx.log.warn("task", `ptask=${p.ptask.join(",")} ignored: task layers are found beside a main SFS on a partition`);
    return [];
  }
  const found: Located[] = [];
  for (const name of p.ptask) {
    const path = joinPath(dirname(main.path), `${name}_${distro.prefix}_${distro.version}.sfs`);
    const problem = sfsProblem(main.part.tree, path);
    if (problem) {
      ctx.log.warn("task", `task ${name}: ${path} on ${main.part.name}: ${problem}; the system boots without it`);
      continue;
    }
    found.push(onPart("task", "partition", main.part, path));
    ctx.log.info("task", `${name}: ${path} on ${main.part.name} (ptask)`);
  }
  return found;
}

/** EXTRASFSLIST in the save's BOOTCONFIG: more SFS by bare name, in psubdir or the root of the save's partition. */
export function findExtraSfs(
  ctx: Ctx,
  p: BootParams,
  distro: DistroInfo,
  savePart: Part,
  bootconfig: string | undefined,
  already: readonly Located[] = [],
): Located[] {
  if (bootconfig === undefined) return [];
  const list = extraSfsList(parseShellVars(bootconfig).vars);
  const own = new Set(Object.values(distro.sfs));
  const found: Located[] = [];
  for (const name of list) {
    if (name.includes("/") || own.has(name)) {
      ctx.log.warn(
        "extra",
        `EXTRASFSLIST entry '${name}' ignored: ${name.includes("/") ? "a bare file name is expected" : "it is one of the distro's own SFS"}`,
      );
      continue;
    }
    const path = [joinPath(p.psubdir, name), "/" + name].find((x) => !sfsProblem(savePart.tree, x));
    if (!path) {
      ctx.log.warn("extra", `${name} from EXTRASFSLIST not found in ${p.psubdir || "/"} or / on ${savePart.name}`);
      continue;
    }
    // A task's layer (ramstack build --task, named as ptask= finds it) holds dpkg's records over bdrv's: on top, as ptask= stacks it.
    const task = taskOfLayerName(name, distro);
    if (task !== null) {
      if (already.some((x) => basename(x.path) === name)) {
        ctx.log.info("task", `${task}: ${name} from EXTRASFSLIST is already stacked (ptask)`);
        continue;
      }
      found.push(onPart("task", "partition", savePart, path));
      ctx.log.info("task", `${task}: ${path} on ${savePart.name} (EXTRASFSLIST)`);
      continue;
    }
    found.push(onPart("extra", "partition", savePart, path));
    ctx.log.info("extra", `${name} on ${savePart.name} (EXTRASFSLIST)`);
  }
  return found;
}

/** The task a file name is the layer of (NAME_PREFIX_VERSION.sfs, as build --task names it), or null. */
export function taskOfLayerName(file: string, distro: DistroInfo): string | null {
  const end = `_${distro.prefix}_${distro.version}.sfs`;
  if (!file.endsWith(end)) return null;
  const name = file.slice(0, -end.length);
  return TASK_NAME.test(name) ? name : null;
}
