// The plan from the decisions: copies to RAM, the layer stack, what stays
// mounted, checks and modules, locale, and the PUPSTATE and BOOTCONFIG
// handed to the running system. A boot that stops at a shell gets its own,
// smaller plan (fatalPlan).

import type { CopyCandidate, CopyMode } from "../copy.js";
import { decideCopies } from "../copy.js";
import type { DistroInfo, SfsKind } from "../distro.js";
import { renderBootconfig, renderPupstate } from "../handover.js";
import { chooseLocale } from "../locale.js";
import type { BootParams } from "../params.js";
import { basename } from "../tree.js";
import type { Layer, Plan, Question, SavePlan } from "../types.js";
import type { Ctx } from "./context.js";
import type { IsoBoot } from "./iso.js";
import { fsckFlagFiles, fsckSteps, initModules, mountedParts, saveResize } from "./maintenance.js";
import type { Union } from "./params.js";
import type { ChosenSave, SaveTarget } from "./save.js";
import { isLayerSave, layerFile, pupmodeOf } from "./save.js";
import type { Located } from "./sfs.js";

/** Everything decided for a boot that goes on. */
export interface Decisions {
  /** The effective parameters (BOOT_SPECS, root=, SAVESPEC's pmedia applied). */
  p: BootParams;
  distro: DistroInfo;
  union: Union;
  tz: string | null;
  iso: IsoBoot | null;
  main: Located;
  /** The other SFS, in the order found (a/y/b/f/zdrv, devx..., EXTRASFSLIST). */
  sfs: Located[];
  save: ChosenSave | null;
  /** The directory the save was looked for in, when one was given. */
  saveDir: string | null;
  saveTarget: SaveTarget | null;
  /** The union the save's layout is recorded for. */
  saveLayout: Union;
  upgrade: Plan["upgrade"];
  forcePm5: boolean;
  questions: Question[];
}

/** What is known when the boot stops at a shell. */
export interface FatalState {
  p: BootParams;
  distro: DistroInfo | null;
  union: Union;
  tz: string | null;
  iso: IsoBoot | null;
}

const MOUNTPOINT: Record<SfsKind, string> = {
  puppy: "/pup_ro2",
  adrv: "/pup_a",
  ydrv: "/pup_y",
  bdrv: "/pup_b",
  zdrv: "/pup_z",
  fdrv: "/pup_f",
  devx: "/pup_dev",
  nlsx: "/pup_nls",
  docx: "/pup_doc",
  kbuild: "/pup_k",
};

/** The order SFS are copied to RAM in: the most used first (PR #3783). */
const COPY_PRIORITY: (SfsKind | "extra" | "task")[] = [
  "puppy",
  "adrv",
  "ydrv",
  "bdrv",
  "devx",
  "nlsx",
  "docx",
  "zdrv",
  "fdrv",
  "kbuild",
  "task",
  "extra",
];

/** The union's order of the SFS layers, top first; EXTRASFSLIST's go below them. */
const STACK_ORDER: SfsKind[] = ["adrv", "ydrv", "bdrv", "puppy", "devx", "nlsx", "docx", "kbuild", "fdrv", "zdrv"];

/** No save was checked for its version. */
export const NO_UPGRADE: Plan["upgrade"] = { status: "none", reason: "no save", clean: false };

const copyModeOf = (p: BootParams): CopyMode => (p.pfix.nocopy ? "no" : p.pfix.copy || p.pfix.ram ? "yes" : "auto");
const keyOf = (x: Located): string =>
  x.kind === "extra" || x.kind === "task" ? `${x.kind}:${basename(x.path)}` : x.kind;

export function assemble(ctx: Ctx, d: Decisions): Plan {
  const { p, distro, union, iso, main, save } = d;
  const pupmode = pupmodeOf(save);
  const copyMode = copyModeOf(p);
  const all = [main, ...d.sfs];
  const ordered = COPY_PRIORITY.flatMap((k) => all.filter((x) => x.kind === k));
  const copies = decideCopies(
    ctx.machine.ramMiB,
    copyMode,
    ordered.map((x): CopyCandidate => ({ key: keyOf(x), sizeMiB: x.sizeMiB, inInitrd: x.source === "initrd" })),
    ctx.machine.availableMiB,
  );
  for (const c of copies) ctx.log.info("copy", `${c.key}: ${c.ram ? "to RAM" : "stays on disk"}: ${c.reason}`);
  const inRam = new Map(copies.map((c) => [c.key, c.ram]));
  const layers = stack(all, save, (x) => inRam.get(keyOf(x)) ?? false);

  // Partitions that stay mounted: SFS not copied, the save (12/13), the ISO host.
  const keep = new Set<string>();
  for (const x of all) {
    if (x.source === "initrd" || inRam.get(keyOf(x))) continue;
    if (x.source === "iso" && iso) keep.add(iso.host.name);
    else if (x.part) keep.add(x.part.name);
  }
  if (isLayerSave(save)) keep.add(save.cand.part.name);
  const keepMounted = [...keep];

  const mounted = mountedParts(all, iso, save);
  const fsck = fsckSteps(ctx, p, mounted, save);
  const locale = chooseLocale(p.plang, p.pkeys, ctx.machine.initrd);
  for (const n of locale.notes) ctx.log.info("locale", n);
  for (const w of locale.warnings) ctx.log.warn("locale", w);
  const { modules, from } = initModules(ctx, p, distro, main, save);
  const resizeSave = saveResize(ctx, save);
  const tmpfsPercent = union === "overlay" && (pupmode === 13 || pupmode === 77) ? 75 : 50;
  const bootPartition = main.source === "initrd" ? "initrd" : main.source === "iso" ? iso!.host.name : main.part!.name;
  const bootPart = main.source === "partition" ? main.part! : main.source === "iso" ? iso!.host : null;
  const sfsField = (x: Located | undefined): string =>
    x
      ? `${x.source === "initrd" ? "rootfs" : x.source === "iso" ? "iso" : x.part!.name},${x.source === "initrd" ? "rootfs" : x.part!.fstype},${x.path}`
      : "";
  const sfsOf = (k: SfsKind): string => sfsField(all.find((x) => x.kind === k));

  const pupstate = renderPupstate({
    pupmode,
    pdev1: bootPart?.name ?? "rootfs",
    dev1fs: bootPart?.fstype ?? "rootfs",
    pupsfs: sfsField(main),
    pupsave: save
      ? `${save.cand.part.name},${save.cand.part.fstype},${save.kind === "partition" ? "" : save.cand.path}`
      : "",
    pmedia: p.pmedia,
    drives: ctx.machine.disks.filter((x) => x.transport !== "cd").map((x) => x.name),
    opticalDrives: ctx.machine.disks.filter((x) => x.transport === "cd").map((x) => x.name),
    saveLayer: pupmode === 12 ? "/pup_rw" : pupmode === 13 || pupmode === 77 ? "/pup_ro1" : "",
    pupHome: isLayerSave(save) ? "/mnt/dev_save" : "",
    zdrv: sfsOf("zdrv"),
    fdrv: sfsOf("fdrv"),
    adrv: sfsOf("adrv"),
    ydrv: sfsOf("ydrv"),
    bdrv: sfsOf("bdrv"),
    psavemark: p.psavemark !== null ? String(p.psavemark) : "",
    // Puppy's: empty for a save found beside the main SFS; the given place, even before a save is there.
    psavepart: d.saveTarget?.part.name ?? "",
    psavedir: d.saveTarget?.dir ?? "",
    psubdir: p.psubdir,
    unionfs: union,
    lang: locale.lang,
  });
  const prevBootconfig = save ? layerFile(save, union, ctx.answers, "/etc/rc.d/BOOTCONFIG") : undefined;
  const bootconfig = renderBootconfig(
    prevBootconfig,
    save ? basename(save.cand.path) || save.cand.part.name : null,
    layers.filter((l) => l.role !== "rw" && l.role !== "save").map((l) => basename(l.path ?? "")),
  );

  return {
    pupmode,
    unionfs: union,
    layers,
    save: savePlan(save, d.saveDir, d.saveLayout),
    saveTarget:
      d.saveTarget && !p.pfix.ram
        ? {
            partition: d.saveTarget.part.name,
            fstype: d.saveTarget.part.fstype,
            dir: d.saveTarget.dir,
            from: d.saveTarget.from,
          }
        : null,
    fatal: null,
    warnings: ctx.log.warnings(),
    log: ctx.log.lines(),
    decisions: ctx.log.entries,
    pending: [...new Set(ctx.pending)],
    distro: { name: distro.name, version: distro.version, prefix: distro.prefix },
    psubdir: p.psubdir,
    pmedia: p.pmedia,
    waitdev: p.waitdev,
    bootPartition,
    iso: iso ? { partition: iso.host.name, path: iso.path } : null,
    copyMode,
    tmpfsPercent,
    keepMounted,
    mediaRemovable: keepMounted.length === 0,
    fsck,
    fsckFlags: fsckFlagFiles(mounted),
    resizeSave,
    modules,
    modulesFrom: from,
    keymap: locale.keymap,
    keymapFile: locale.keymapFile,
    lang: locale.lang,
    font: locale.font,
    codepage: locale.codepage,
    upgrade: d.upgrade,
    questions: d.questions,
    flags: {
      rdsh: p.pfix.rdsh,
      nox: p.pfix.nox,
      xorgwizard: p.pfix.xorgwizard,
      forcePm5: d.forcePm5,
      versionUpdate: d.upgrade.clean,
    },
    wireless: p.wireless ? { ssid: p.wireless.ssid } : null,
    tz: d.tz,
    pupstate,
    bootconfig,
  };
}

/** The plan of a boot that stops at a shell: no layers, no save; what the parameters and the locale say still holds. */
export function fatalPlan(ctx: Ctx, s: FatalState, message: string): Plan {
  ctx.log.error("fatal", `${message}; dropping to a shell`);
  const { p } = s;
  const locale = chooseLocale(p.plang, p.pkeys, ctx.machine.initrd);
  return {
    pupmode: 5,
    unionfs: s.union,
    layers: [],
    save: savePlan(null, null, "overlay"),
    saveTarget: null,
    fatal: message,
    warnings: ctx.log.warnings(),
    log: ctx.log.lines(),
    decisions: ctx.log.entries,
    pending: [...new Set(ctx.pending)],
    distro: s.distro ? { name: s.distro.name, version: s.distro.version, prefix: s.distro.prefix } : null,
    psubdir: p.psubdir,
    pmedia: p.pmedia,
    waitdev: p.waitdev,
    bootPartition: null,
    iso: s.iso ? { partition: s.iso.host.name, path: s.iso.path } : null,
    copyMode: copyModeOf(p),
    tmpfsPercent: 50,
    keepMounted: [],
    mediaRemovable: false,
    fsck: [],
    fsckFlags: [],
    resizeSave: null,
    modules: [],
    modulesFrom: null,
    keymap: locale.keymap,
    keymapFile: locale.keymapFile,
    lang: locale.lang,
    font: locale.font,
    codepage: locale.codepage,
    upgrade: NO_UPGRADE,
    questions: [],
    flags: { rdsh: p.pfix.rdsh, nox: p.pfix.nox, xorgwizard: p.pfix.xorgwizard, forcePm5: false, versionUpdate: false },
    wireless: p.wireless ? { ssid: p.wireless.ssid } : null,
    tz: s.tz,
    pupstate: {},
    bootconfig: {},
  };
}

/** The layer stack, top first: the writable layer, the save below it (13, 77), task layers, the SFS, EXTRASFSLIST's. */
function stack(all: Located[], save: ChosenSave | null, inRam: (x: Located) => boolean): Layer[] {
  const layers: Layer[] = [];
  const pupmode = pupmodeOf(save);
  const s = save?.cand;
  if (pupmode === 12 && s) {
    layers.push({
      role: "rw",
      partition: s.part.name,
      path: s.path,
      ram: false,
      mountpoint: "/pup_rw",
      source: "save",
      fstype: s.part.fstype,
    });
  } else {
    layers.push({
      role: "rw",
      partition: null,
      path: "/mnt/tmpfs/pup_rw",
      ram: true,
      mountpoint: "/pup_rw",
      source: "tmpfs",
    });
  }
  if (pupmode === 13 && s)
    layers.push({
      role: "save",
      partition: s.part.name,
      path: s.path,
      ram: false,
      mountpoint: "/pup_ro1",
      source: "save",
      fstype: s.part.fstype,
    });
  if (pupmode === 77 && s)
    layers.push({
      role: "save",
      partition: null,
      path: "/mnt/tmpfs/pup_ro1",
      ram: true,
      mountpoint: "/pup_ro1",
      source: "tmpfs",
    });
  const layerOf = (x: Located, role: Layer["role"], mountpoint: string): Layer => {
    const l: Layer = {
      role,
      partition: x.source === "initrd" ? null : x.source === "iso" ? "iso" : x.part!.name,
      path: x.path,
      ram: inRam(x),
      mountpoint,
      source: x.source,
      sizeMiB: x.sizeMiB,
    };
    if (x.part && x.source === "partition") l.fstype = x.part.fstype;
    if (role === "extra") l.kind = x.kind;
    return l;
  };
  // Task layers on top: each holds its packages' dpkg records, over bdrv's.
  let n = 3;
  for (const x of all.filter((y) => y.kind === "task")) layers.push(layerOf(x, "extra", `/pup_ro${n++}`));
  for (const kind of STACK_ORDER) {
    const x = all.find((y) => y.kind === kind);
    if (!x) continue;
    const role: Layer["role"] =
      kind === "devx" || kind === "nlsx" || kind === "docx" || kind === "kbuild" ? "extra" : kind;
    layers.push(layerOf(x, role, MOUNTPOINT[kind]));
  }
  for (const x of all.filter((y) => y.kind === "extra")) layers.push(layerOf(x, "extra", `/pup_ro${n++}`));
  return layers;
}

function savePlan(save: ChosenSave | null, dir: string | null, layout: Union): SavePlan {
  if (!save) return { kind: "none", partition: null, path: null, flash: false };
  const s = save.cand;
  const plan: SavePlan = {
    kind: save.kind,
    partition: s.part.name,
    path: s.path,
    flash: pupmodeOf(save) === 13,
    fstype: s.part.fstype,
  };
  if (s.fileFs && save.kind === "file") plan.fileFs = s.fileFs;
  if (s.encrypted) plan.encrypted = true;
  if (save.kind === "multisession") plan.folders = save.folders;
  if (dir) plan.dir = dir;
  if (save.kind !== "archive" && save.kind !== "multisession") plan.layout = layout;
  return plan;
}
