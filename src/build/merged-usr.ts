// zdrv for a merged-/usr system (the debian profile): its /lib is a link
// into /usr, and the link in the layer above (bdrv) hides zdrv's /lib
// directory, so the modules and firmware are under /usr/lib as well. A
// module of its own: zdrv's key holds its code, and a change elsewhere in
// the debian profile does not rebuild zdrv.

import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { run } from "../sys/exec.js";

/** zdrv's modules and firmware under /usr/lib as well (hard links: mksquashfs stores them once). */
export function mergedUsrModules(root: string): void {
  mkdirSync(join(root, "usr/lib"), { recursive: true, mode: 0o755 });
  for (const d of ["modules", "firmware"])
    if (existsSync(join(root, "lib", d))) run("cp", ["-al", join(root, "lib", d), join(root, "usr/lib", d)]);
  chmodSync(join(root, "usr"), 0o755);
  chmodSync(join(root, "usr/lib"), 0o755);
}
