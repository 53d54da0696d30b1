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

/**
 * BOOTCONFIG keeps the user's EXTRASFSLIST; LASTUNIONRECORD moves to
 * PREVUNIONRECORD and the new one records this boot's stack.
 */
export function renderBootconfig(previous: string | undefined, saveName: string | null, sfsNames: string[]): Record<string, string> {
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
