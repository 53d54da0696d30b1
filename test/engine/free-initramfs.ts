// freeInitramfs on QuickJS, through the port the init ships with (the native
// removeContents): run by test/host/free-initramfs.test.ts against the same
// tree as on Node.js. Arguments: ROOT. Prints the entries left, then the
// refusal of a new root that is not a mount.

import * as std from "std";
import { freeInitramfs } from "../../src/init/system.js";
import { QuickJsPort } from "../../src/port/quickjs.js";

const root = scriptArgs[1]!;
const port = new QuickJsPort();
std.out.puts(`left: ${freeInitramfs(port, root, `${root}/pup_new`, [`${root}/tmp`])}\n`);
try {
  freeInitramfs(port, root, `${root}/tmp`, []);
} catch (e) {
  std.out.puts(`refused: ${(e as Error).message.replace(root, "ROOT")}\n`);
}
