// Where the commands show progress: the port's stderr, a bar when it is a
// terminal (the host's build and image, the running system's save and sfs).

import type { ProgressOut } from "../lib/progress.js";
import type { Port } from "../port/port.js";

export function portProgress(port: Port): ProgressOut {
  return { terminal: port.errorIsTerminal(), write: (t) => port.writeError(t) };
}
