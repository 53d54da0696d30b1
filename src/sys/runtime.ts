// Programs the initrd's runtime carries (e2fsck, cryptsetup, tar) with the
// libraries they need: at /runtime in the init, at /initrd/runtime once the
// system runs. Elsewhere the PATH's own are used. Node-only: reached through
// the port (port/node.ts), never by the saver.

import { existsSync } from "node:fs";
import { runtimeTool as findTool } from "../port/commands.js";

export interface Tool {
  cmd: string;
  env?: NodeJS.ProcessEnv;
}

export function runtimeTool(name: string): Tool {
  const t = findTool(name, existsSync);
  return t.libraryPath ? { cmd: t.cmd, env: { ...process.env, LD_LIBRARY_PATH: t.libraryPath } } : { cmd: t.cmd };
}
