// The clean-up a save layer gets when a new version of the system first uses
// it (an accepted upgrade, or pfix=clean), as Puppy's init does: the save's
// copies of the boot scripts and module indexes would shadow the new
// system's, and its whiteouts could hide files the new version brings back.

import { join } from "../lib/path.js";
import { isWhiteoutDevice } from "../plan/overlay.js";
import type { Port } from "../port/port.js";

/** Whiteouts here are the user's own choices (autostart entries turned off): kept. */
const KEEP_WHITEOUTS_UNDER = "root/.config/autostart";

/** Remove what an older version left in the layer; the paths removed, relative to it. */
export function upgradeCleanup(port: Port, layer: string): string[] {
  const removed: string[] = [];
  const remove = (rel: string): void => {
    port.remove(join(layer, rel));
    removed.push(rel);
  };
  const list = (rel: string): string[] => port.list(join(layer, rel));
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
      const st = port.lstat(join(layer, path));
      if (st && isWhiteoutDevice(st.kind === "char", st.rdevMajor, st.rdevMinor)) remove(path);
      else if (st?.kind === "dir") walk(path);
    }
  };
  walk("");
  return removed;
}
