// Programs the initrd's runtime carries beside Node.js (getfattr, setfattr,
// e2fsck, cryptsetup) with the libraries they need: at /runtime in the init,
// at /initrd/runtime once the system runs. Elsewhere the PATH's own are used.
// Node-only: reached through the port (port/node.ts), never by the saver.

import { existsSync } from "node:fs";

const RUNTIMES = ["/runtime", "/initrd/runtime"];

export interface Tool {
  cmd: string;
  env?: NodeJS.ProcessEnv;
}

export function runtimeTool(name: string): Tool {
  for (const dir of RUNTIMES) {
    const bundled = `${dir}/bin/${name}`;
    if (existsSync(bundled)) return { cmd: bundled, env: { ...process.env, LD_LIBRARY_PATH: `${dir}/lib` } };
  }
  return { cmd: name };
}
