// The ramstack command of the running system, on the small engine
// (QuickJS): the verbs that act on the session. Building, images and QEMU
// stay with the host's ramstack (cli/main.ts, on Node.js).

import * as std from "std";
import { errorText } from "../lib/errors.js";
import { setDefaultPort } from "../port/default.js";
import { QuickJsPort } from "../port/quickjs.js";
import type { Verb } from "./dispatch.js";
import { dispatch } from "./dispatch.js";
import { runSave, SAVE_HELP } from "./save.js";
import { runSfs, SFS_HELP } from "./sfs.js";
import { runTask, TASK_HELP } from "./task.js";

const HELP = `Usage: ramstack COMMAND [OPTIONS]

The running system's ramstack: save the session, list or revert saves, load SFS, add tasks.

Commands:
  save      merge the session into the save; list or revert generations; make the first save
  sfs       load an SFS into the running system, unload it, list them (--boot: at every boot)
  task      prepare the system for a task (webdev): add it from Debian's packages, remove it, list them

Options:
  --help     show help (also: ramstack COMMAND --help)
  --version  show the version

Building, disk images and QEMU are the host's ramstack (build, image, run, plan).`;

const VERBS: Record<string, Verb> = {
  save: { run: runSave, help: SAVE_HELP },
  sfs: { run: runSfs, help: SFS_HELP },
  task: { run: runTask, help: TASK_HELP },
};

setDefaultPort(new QuickJsPort());
const print = (f: std.FILE) => (s: string) => {
  f.puts(s + "\n");
  f.flush();
};
// No top-level await on this engine: the exit status comes when the verb's promise settles.
dispatch(VERBS, HELP, scriptArgs.slice(1), print(std.out), print(std.err)).then(
  (status) => std.exit(status),
  (e: unknown) => {
    print(std.err)(`ramstack: ${errorText(e)}`);
    std.exit(1);
  },
);
