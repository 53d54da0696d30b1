// The effective boot parameters: the cmdline, then the initrd's DISTRO_SPECS
// and BOOT_SPECS, then root= as the main SFS partition; and the union.

import { applyBootSpecs } from "../bootspecs.js";
import type { DistroInfo } from "../distro.js";
import { parseDistroSpecs } from "../distro.js";
import type { DecisionLog } from "../log.js";
import { DEFAULT_FILESYSTEMS } from "../machine.js";
import type { BootParams } from "../params.js";
import { DEFAULT_WAITDEV, parseParams } from "../params.js";
import type { Ctx } from "./context.js";
import { fatal } from "./context.js";

export type Union = "overlay" | "aufs";

export function readCmdline(cmdline: string, log: DecisionLog): BootParams {
  const { params: p, warnings, log: notes } = parseParams(cmdline);
  for (const w of warnings) log.warn("cmdline", w);
  for (const l of notes) log.info("cmdline", l);
  const given = Object.entries({
    pmedia: p.pmedia,
    psubdir: p.psubdir,
    pupsfs: p.pupsfs,
    psave: p.psave,
    zdrv: p.zdrv,
    fdrv: p.fdrv,
    adrv: p.adrv,
    ydrv: p.ydrv,
    bdrv: p.bdrv,
    psavemark: p.psavemark,
    punionfs: p.punionfs,
    isofrom: p.isoFile,
  }).filter(([, v]) => v !== null && v !== "");
  log.info("cmdline", given.length ? given.map(([k, v]) => `${k}=${v}`).join(" ") : "no Puppy boot parameters");
  const flags = Object.entries(p.pfix).filter(([k, v]) => v === true || (k === "ignoreNewest" && v !== 0));
  if (flags.length)
    log.info("cmdline", `pfix: ${flags.map(([k, v]) => (k === "ignoreNewest" ? String(v) : k)).join(",")}`);
  if (p.waitdev !== DEFAULT_WAITDEV)
    log.info("cmdline", `waitdev=${p.waitdev}: wait up to ${p.waitdev} s for missing devices`);
  return p;
}

/** The initrd's DISTRO_SPECS: without a usable one nothing can be found. */
export function readDistro(ctx: Ctx): DistroInfo {
  const { distro, errors, notes } = parseDistroSpecs(ctx.machine.initrd.DISTRO_SPECS, ctx.machine.kernelRelease);
  for (const n of notes) ctx.log.warn("distro_specs", n);
  if (!distro) fatal(ctx, "distro_specs", `the initrd's DISTRO_SPECS is unusable: ${errors.join("; ")}`);
  ctx.log.info(
    "distro_specs",
    `${distro.name} ${distro.version}, file prefix ${distro.prefix}, main SFS ${distro.sfs.puppy}`,
  );
  return distro;
}

/** BOOT_SPECS overrides the cmdline (not with pfix=ram); then root= names the main SFS partition if nothing else did. */
export function applyInitrdSpecs(ctx: Ctx, cmdline: BootParams): { params: BootParams; tz: string | null } {
  let params = cmdline;
  let tz: string | null = null;
  const bootSpecs = ctx.machine.initrd.BOOT_SPECS;
  if (bootSpecs !== undefined && bootSpecs.trim() !== "") {
    if (params.pfix.ram) ctx.log.info("boot_specs", "pfix=ram: BOOT_SPECS is not applied");
    else ({ params, tz } = applyBootSpecs(bootSpecs, params, ctx.log));
  }
  if (params.pupsfs === null && params.root !== null && params.isoFile === null) {
    params = { ...params, pupsfs: params.root, pupsfsFrom: "root" };
    ctx.log.info("cmdline", `root=${params.root} names the partition of the main SFS`);
  }
  return { params, tz };
}

/** punionfs when the kernel has it; else aufs when the kernel has it, else overlay. */
export function chooseUnion(ctx: Ctx, p: BootParams): Union {
  const hasAufs = (ctx.machine.filesystems ?? DEFAULT_FILESYSTEMS).includes("aufs");
  if (p.punionfs === "aufs" && !hasAufs) {
    ctx.log.warn("union", "punionfs=aufs but the kernel has no aufs: using overlay");
    return "overlay";
  }
  if (p.punionfs) {
    ctx.log.info("union", `${p.punionfs} (punionfs)`);
    return p.punionfs;
  }
  ctx.log.info("union", hasAufs ? "aufs: the kernel has it" : "overlay: the kernel has no aufs");
  return hasAufs ? "aufs" : "overlay";
}
