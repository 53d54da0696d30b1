#!/usr/bin/env node
// The ramstack command: thin dispatch to each verb.

import { UsageError } from "./args.js";
import { BUILD_HELP, runBuild } from "./build.js";
import { IMAGE_HELP, runImage } from "./image.js";
import { PLAN_HELP, runPlan } from "./plan.js";
import { RUN_HELP, runRun } from "./run.js";
import { runSave, SAVE_HELP } from "./save.js";

const VERSION = "0.1.0";

const HELP = `Usage: ramstack COMMAND [OPTIONS]

A RAM-resident, layered live Linux, compatible with Puppy frugal installs.

Commands:
  plan      show what the init would do on a machine with a kernel command line
  build     build a frugal install (kernel, initrd, SFS layers) from Debian's packages
  image     write a disk image that boots a build on BIOS and UEFI
  run       boot a build or an image in QEMU
  save      (in the running system) merge the session into the save; list or revert generations

Options:
  --help     show help (also: ramstack COMMAND --help)
  --version  show the version

Example:
  ramstack plan --machine examples/usb-flash.json --cmdline "pmedia=usbflash"`;

type Verb = { run: (argv: readonly string[], out: (s: string) => void) => number | Promise<number>; help: string };
const VERBS: Record<string, Verb> = {
  plan: { run: runPlan, help: PLAN_HELP },
  build: { run: runBuild, help: BUILD_HELP },
  image: { run: runImage, help: IMAGE_HELP },
  run: { run: runRun, help: RUN_HELP },
  save: { run: runSave, help: SAVE_HELP },
};

export async function main(
  argv: readonly string[],
  out: (s: string) => void = (s) => console.log(s),
  err: (s: string) => void = (s) => console.error(s),
): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "--help" || verb === "-h" || verb === "help") {
    out(HELP);
    return verb === undefined ? 2 : 0;
  }
  if (verb === "--version") {
    out(VERSION);
    return 0;
  }
  const v = VERBS[verb];
  if (!v) {
    err(`ramstack: unknown command '${verb}'\n\n${HELP}`);
    return 2;
  }
  try {
    return await v.run(rest, out);
  } catch (e) {
    if (e instanceof UsageError) {
      const command = e.command ?? verb;
      err(`ramstack ${command}: ${e.message}\nTry 'ramstack ${command} --help'.`);
      return 2;
    }
    // A failure of a real tool or a bad input: one clear line, no stack trace.
    err(`ramstack ${verb}: ${(e as Error).message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
