// PID 1 in the initramfs. A small sh stub mounts /proc, /sys and /dev, then
// execs this on the runtime unpacked in the initrd: the boot (boot.ts) on
// the Node.js port. Whatever escapes it ends in a shell, never in a kernel
// panic.

import { NodePort } from "../port/node.js";
import { Init } from "./boot.js";

const init = new Init(new NodePort());
init.boot().catch((e: unknown) => {
  init.log.console(`*** the init failed: ${(e as Error).stack ?? String(e)}`);
  init.sys.shell("A shell follows.");
});
