// switch_root's clean-up written with the port's own calls: for the ports
// whose runtime has no native one (Node.js on a workstation, the recording
// fake). The QuickJS port does it in C (ramstack:sys removeContents).

import type { Port } from "./port.js";

type Walker = Pick<Port, "list" | "lstat" | "remove" | "removeEmptyDir">;

/** Port.removeContents through list, lstat and remove: KEEP is matched by path as written. */
export function removeContentsByWalk(port: Walker, dir: string, keep: readonly string[]): number {
  const dev = port.lstat(dir)?.dev;
  if (dev === undefined) throw new Error(`removeContents(${dir}): no such directory`);
  const kept = new Set(keep);
  const walk = (d: string): number => {
    let left = 0;
    for (const name of port.list(d)) {
      const path = d === "/" ? `/${name}` : `${d}/${name}`;
      const st = port.lstat(path);
      if (!st || kept.has(path) || st.dev !== dev) {
        left++;
        continue;
      }
      try {
        if (st.kind === "dir") {
          if (walk(path) !== 0 || !port.removeEmptyDir(path)) left++;
        } else port.remove(path);
      } catch {
        // Best effort, like switch_root: what cannot go stays.
        left++;
      }
    }
    return left;
  };
  return walk(dir);
}
