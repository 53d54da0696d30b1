// PID 1 in the initramfs: the runtime (QuickJS with ramstack:sys) is /init,
// and runs this as its bytecode (native/ramstack_main.c); the boot
// (boot.ts) on the small engine's port. Whatever escapes it ends in a
// shell, never in a kernel panic.

import { setDefaultPort } from "../port/default.js";
import { QuickJsPort } from "../port/quickjs.js";
import { errorText } from "../lib/errors.js";
import { Init } from "./boot.js";

const port = new QuickJsPort();
setDefaultPort(port);
const init = new Init(port);
init.boot().catch((e: unknown) => {
  init.log.console(`*** the init failed: ${errorText(e)}`);
  init.sys.shell("A shell follows.");
});
