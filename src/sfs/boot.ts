// SFS stacked at every boot: BOOTCONFIG's EXTRASFSLIST, which the init reads
// from the save (plan/steps/sfs.ts: findExtraSfs) and looks up by name in the
// save partition's PSUBDIR, then its root. Kept in the running system's
// /etc/rc.d/BOOTCONFIG, which is the save's in PUPMODE 12 and reaches it with
// the next merge in PUPMODE 13.

import { join } from "../lib/path.js";
import { extraSfsList, parsePupstate } from "../plan/handover.js";
import { underInitrd } from "../plan/layout.js";
import { parseShellVars, renderShellVars } from "../plan/shellvars.js";
import type { Port } from "../port/port.js";

export const BOOTCONFIG = "/etc/rc.d/BOOTCONFIG";
const PUPSTATE = "/etc/rc.d/PUPSTATE";

const bootconfig = (port: Port, root: string): Map<string, string> =>
  parseShellVars(port.readText(join(root, BOOTCONFIG)) ?? "").vars;

/** The names EXTRASFSLIST holds, in order (as the init reads them). */
export function bootSfsList(port: Port, root = "/"): string[] {
  return extraSfsList(bootconfig(port, root));
}

/** Add NAME to EXTRASFSLIST (last) or take it out; whether the list changed. Other settings are kept as they were. */
export function setBootSfs(port: Port, name: string, on: boolean, root = "/"): boolean {
  const vars = bootconfig(port, root);
  const list = extraSfsList(vars);
  if (list.includes(name) === on) return false;
  vars.set("EXTRASFSLIST", (on ? [...list, name] : list.filter((n) => n !== name)).join(" "));
  port.writeText(join(root, BOOTCONFIG), renderShellVars(vars));
  return true;
}

/**
 * Where the init will look for NAME at the next boot (the save partition's
 * PSUBDIR, then its root), as the running system sees those places; null
 * when this boot has no save to remember the list in.
 */
export function bootPlaces(port: Port, name: string, root = "/"): string[] | null {
  const text = port.readText(join(root, PUPSTATE));
  if (text === undefined) return null;
  const s = parsePupstate(text);
  const home = s.vars.get("PUP_HOME") ?? "";
  if (![12, 13].includes(s.pupmode) || !home) return null;
  const dir = join(root, underInitrd(home));
  return [...new Set([join(dir, s.psubdir, name), join(dir, name)])];
}
