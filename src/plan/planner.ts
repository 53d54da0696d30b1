// The boot planner: machine facts + kernel command line + the initrd's spec
// files -> a boot plan with the reason for every decision. Pure: it reads
// only what it is given, and the same input always gives the same plan.
//
// run() below is the table of contents: each step is a function in steps/
// that takes what the steps before it decided and returns its own decision;
// every reason goes to the one DecisionLog in the context.

import type { Part } from "./devices.js";
import { describePart, takeInventory } from "./devices.js";
import type { DistroInfo } from "./distro.js";
import type { BootParams } from "./params.js";
import type { SaveCandidate } from "./save.js";
import type { Plan } from "./types.js";
import type { Decisions, FatalState } from "./steps/assemble.js";
import { assemble, fatalPlan, NO_UPGRADE } from "./steps/assemble.js";
import type { Ctx, PlanInput } from "./steps/context.js";
import { Fatal, newContext } from "./steps/context.js";
import type { IsoBoot } from "./steps/iso.js";
import { findIso } from "./steps/iso.js";
import type { Union } from "./steps/params.js";
import { applyInitrdSpecs, chooseUnion, readCmdline, readDistro } from "./steps/params.js";
import { checkSaveFormat, checkUpgrade, chooseFlash, chooseSavePlace, findSave, layerFile } from "./steps/save.js";
import type { Located } from "./steps/sfs.js";
import { findExtraSfs, findMainSfs, findOtherSfs, findTaskSfs } from "./steps/sfs.js";

export type { Answers, PlanInput } from "./steps/context.js";
export { PROMPT_TIMEOUT_SEC, upgradeQuestion } from "./steps/questions.js";

export function planBoot(input: PlanInput): Plan {
  const ctx = newContext(input);
  // What is known so far, for the plan of a boot that stops at a shell.
  const known: FatalState = {
    p: readCmdline(input.cmdline, ctx.log),
    distro: null,
    union: "overlay",
    tz: null,
    iso: null,
  };
  try {
    return run(ctx, input, known);
  } catch (e) {
    if (!(e instanceof Fatal)) throw e;
    return fatalPlan(ctx, known, e.message);
  }
}

function run(ctx: Ctx, input: PlanInput, known: FatalState): Plan {
  const distro = (known.distro = readDistro(ctx));
  const { params: p, tz } = applyInitrdSpecs(ctx, known.p);
  known.p = p;
  known.tz = tz;
  const union = (known.union = chooseUnion(ctx, p));

  const inv = takeInventory(ctx.machine, input.treeFor);
  logInventory(ctx, inv);
  const iso = (known.iso = findIso(ctx, p, inv));
  const { main, searchedSaves } = findMainSfs(ctx, p, distro, inv.parts, iso);
  const sfs = [...findOtherSfs(ctx, p, distro, inv.parts, main, union), ...findTaskSfs(ctx, p, distro, main)];

  const saving = p.pfix.ram ? noSave(ctx, p) : decideSave(ctx, p, distro, inv.parts, main, iso, searchedSaves, union);
  const extra = saving.save
    ? findExtraSfs(
        ctx,
        p,
        distro,
        saving.save.cand.part,
        layerFile(saving.save, union, ctx.answers, "/etc/rc.d/BOOTCONFIG"),
        sfs,
      )
    : [];
  return assemble(ctx, { distro, union, tz, iso, main, sfs: [...sfs, ...extra], ...saving });
}

type SaveDecisions = Omit<Decisions, "distro" | "union" | "tz" | "iso" | "main" | "sfs">;

function noSave(ctx: Ctx, p: BootParams): SaveDecisions {
  ctx.log.info("save", "pfix=ram: no save is loaded; everything stays in RAM");
  return {
    p,
    save: null,
    saveDir: null,
    saveTarget: null,
    saveLayout: "overlay",
    upgrade: NO_UPGRADE,
    forcePm5: false,
    questions: [],
  };
}

/** Where the save is, which one, whether this boot can use it, and flash mode. */
function decideSave(
  ctx: Ctx,
  p: BootParams,
  distro: DistroInfo,
  parts: Part[],
  main: Located,
  iso: IsoBoot | null,
  searchedSaves: SaveCandidate[],
  union: Union,
): SaveDecisions {
  const place = chooseSavePlace(ctx, p, distro, parts, main, iso, searchedSaves);
  const found = findSave(ctx, p, distro, place);
  const format = checkSaveFormat(ctx, found.save, union);
  const version = checkUpgrade(ctx, p, distro, format.save, union);
  return {
    // SAVESPEC may set pmedia: it counts from here on (flash mode, PUPSTATE).
    p: { ...p, pmedia: place.pmedia },
    save: chooseFlash(ctx, place.pmedia, version.save),
    saveDir: place.dir,
    saveTarget: place.target,
    saveLayout: format.layout,
    upgrade: version.upgrade,
    forcePm5: version.forcePm5,
    questions: [found.question, version.question].filter((q) => q !== null),
  };
}

function logInventory(ctx: Ctx, inv: ReturnType<typeof takeInventory>): void {
  const names = inv.parts.map((p) => describePart(p));
  ctx.log.info("devices", names.length ? `partitions in search order: ${names.join(", ")}` : "no usable partitions");
  for (const s of inv.skipped) ctx.log.info("devices", `${s.name} skipped: ${s.reason}`);
}
