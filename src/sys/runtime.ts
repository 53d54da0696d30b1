// Programs the runtime carries (e2fsck in the initrd; cryptsetup and tar with
// their C library in the main SFS), found as port/commands.ts says, or the
// PATH's own elsewhere. Node-only: reached through the port (port/node.ts),
// never by the saver.

import { existsSync } from "node:fs";
import type { Tool } from "../port/commands.js";
import { runtimeTool as findTool } from "../port/commands.js";

export type { Tool };

export function runtimeTool(name: string): Tool {
  return findTool(name, existsSync);
}
