// What the init leaves for the running system: /etc/rc.d/PUPSTATE and
// /etc/rc.d/BOOTCONFIG, with Puppy's variable names and order.

import { parseShellVars, renderShellVars } from "./shellvars.js";

export interface PupstateInput {
  pupmode: number;
  pdev1: string;
  dev1fs: string;
  pupsfs: string;
  pupsave: string;
  pmedia: string;
  drives: string[];
  opticalDrives: string[];
  saveLayer: string;
  pupHome: string;
  zdrv: string;
  fdrv: string;
  adrv: string;
  ydrv: string;
  bdrv: string;
  psavemark: string;
  psavepart: string;
  psavedir: string;
  psubdir: string;
  unionfs: string;
  lang: string | null;
}

export function renderPupstate(i: PupstateInput): Record<string, string> {
  const s: Record<string, string> = {
    PUPMODE: String(i.pupmode),
    PDEV1: i.pdev1,
    DEV1FS: i.dev1fs,
    PUPSFS: i.pupsfs,
    PUPSAVE: i.pupsave,
    PMEDIA: i.pmedia,
    ATADRIVES: i.drives.join(" "),
    ATAOPTICALDRIVES: i.opticalDrives.join(" "),
    RW_LAYER: "/pup_rw",
    SAVE_LAYER: i.saveLayer,
    PUP_LAYER: "/pup_ro2",
    PUP_HOME: i.pupHome,
    ZDRV: i.zdrv,
    FDRV: i.fdrv,
    ADRV: i.adrv,
    YDRV: i.ydrv,
    BDRV: i.bdrv,
    PSAVEMARK: i.psavemark,
    PSAVEPART: i.psavepart,
    PSAVEDIR: i.psavedir,
    PSUBDIR: i.psubdir,
    PUNIONFS: i.unionfs,
    DOIMODS: "yes",
    DOMIBS: "no",
  };
  if (i.lang) s.PLANG = i.lang;
  return s;
}

/** BOOTCONFIG's EXTRASFSLIST: the extra SFS the init stacks at every boot, by name, in order. */
export function extraSfsList(bootconfig: ReadonlyMap<string, string>): string[] {
  return (bootconfig.get("EXTRASFSLIST") ?? "").split(/\s+/).filter(Boolean);
}

/**
 * BOOTCONFIG keeps the user's EXTRASFSLIST; LASTUNIONRECORD moves to
 * PREVUNIONRECORD and the new one records this boot's stack.
 */
export function renderBootconfig(
  previous: string | undefined,
  saveName: string | null,
  sfsNames: string[],
): Record<string, string> {
  const old = previous !== undefined ? parseShellVars(previous).vars : new Map<string, string>();
  const out: Record<string, string> = {};
  for (const [k, v] of old) if (k !== "LASTUNIONRECORD" && k !== "PREVUNIONRECORD") out[k] = v;
  if (out.EXTRASFSLIST === undefined) out.EXTRASFSLIST = "";
  if (saveName !== null) {
    if (old.has("LASTUNIONRECORD")) out.PREVUNIONRECORD = old.get("LASTUNIONRECORD")!;
    out.LASTUNIONRECORD = [saveName, ...sfsNames].join(" ");
  }
  return out;
}

export function formatVars(vars: Record<string, string>): string {
  return renderShellVars(Object.entries(vars));
}

/** A place as PUPSTATE writes it: partition,filesystem,path. */
export interface PupstatePlace {
  partition: string;
  fstype: string;
  path: string;
}

/** PUPSTATE as the running system reads it: the values the saver and the tools use, typed. */
export interface Pupstate {
  pupmode: number;
  /** The main SFS (PUPSFS); its partition is "rootfs" for an SFS in the initrd. */
  pupsfs: PupstatePlace | null;
  /** The save (PUPSAVE); a whole-partition save has an empty path. */
  pupsave: PupstatePlace | null;
  pmedia: string;
  /** Where a save goes when psave, SAVEMARK or SAVESPEC gave its place (empty otherwise); PSAVEDIR ends in '/'. */
  psavepart: string;
  psavedir: string;
  psubdir: string;
  /** Every variable, as written. */
  vars: Map<string, string>;
}

function place(v: string | undefined, needPath: boolean): PupstatePlace | null {
  const [partition = "", fstype = "", path = ""] = (v ?? "").split(",");
  return partition && fstype && (path || !needPath) ? { partition, fstype, path } : null;
}

export function parsePupstate(text: string): Pupstate {
  const vars = parseShellVars(text).vars;
  const mode = Number(vars.get("PUPMODE") ?? "5");
  return {
    pupmode: Number.isInteger(mode) ? mode : 5,
    pupsfs: place(vars.get("PUPSFS"), true),
    pupsave: place(vars.get("PUPSAVE"), false),
    pmedia: vars.get("PMEDIA") ?? "",
    psavepart: vars.get("PSAVEPART") ?? "",
    psavedir: vars.get("PSAVEDIR") ?? "",
    psubdir: vars.get("PSUBDIR") ?? "",
    vars,
  };
}
