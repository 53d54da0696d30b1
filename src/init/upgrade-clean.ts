// The clean-up a save layer gets when a new version of the system first uses
// it (an accepted upgrade, or pfix=clean), as Puppy's init does: the save's
// copies of the boot scripts and module indexes would shadow the new
// system's, and its whiteouts could hide files the new version brings back.

import { lstatSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isWhiteout } from "../save/merge.js";

/** Whiteouts here are the user's own choices (autostart entries turned off): kept. */
const KEEP_WHITEOUTS_UNDER = "root/.config/autostart";

/** Remove what an older version left in the layer; the paths removed, relative to it. */
export function upgradeCleanup(layer: string): string[] {
  const removed: string[] = [];
  const remove = (rel: string): void => {
    rmSync(join(layer, rel), { recursive: true, force: true });
    removed.push(rel);
  };
  const list = (rel: string): string[] => {
    try {
      return readdirSync(join(layer, rel)).sort();
    } catch {
      return [];
    }
  };
  for (const release of list("lib/modules")) {
    for (const f of list(`lib/modules/${release}`)) if (f.startsWith("modules.")) remove(`lib/modules/${release}/${f}`);
  }
  for (const f of list("etc/rc.d")) {
    if ((f.startsWith("rc.") && f !== "rc.local") || f.startsWith("funct")) remove(`etc/rc.d/${f}`);
  }
  const walk = (rel: string): void => {
    for (const name of list(rel)) {
      const path = rel ? `${rel}/${name}` : name;
      if (path === KEEP_WHITEOUTS_UNDER) continue;
      const st = lstatSync(join(layer, path));
      if (isWhiteout(st)) remove(path);
      else if (st.isDirectory()) walk(path);
    }
  };
  walk("");
  return removed;
}
