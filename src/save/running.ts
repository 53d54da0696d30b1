// What the saver reads of the running system: PUPSTATE and the layers of the
// root overlay, as the init left them under /initrd.

import { existsSync, lstatSync, readFileSync } from "node:fs";
import type { Stats } from "node:fs";
import { join } from "node:path";
import { parseShellVars } from "../plan/shellvars.js";

/** /etc/rc.d/PUPSTATE as variables; an error outside a ramstack system. */
export function readPupstate(root = "/"): Map<string, string> {
  const pupstate = join(root, "etc/rc.d/PUPSTATE");
  if (!existsSync(pupstate)) throw new Error("this is not a running ramstack system (no /etc/rc.d/PUPSTATE)");
  return parseShellVars(readFileSync(pupstate, "utf8")).vars;
}

/** The root overlay's lower layers, top first, as paths under /initrd (where the init moved them). */
export function unionLowers(root = "/"): string[] {
  const line = readFileSync("/proc/mounts", "utf8").split("\n").find((l) => l.split(" ")[1] === "/" && l.split(" ")[2] === "overlay") ?? "";
  return (/lowerdir=([^,]+)/.exec(line)?.[1] ?? "").split(":").filter(Boolean).map((d) => join(root, "initrd", d));
}

export function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}
