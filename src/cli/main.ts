#!/usr/bin/env node
// The ramstack command: thin dispatch to each verb.

import { setDefaultPort } from "../port/default.js";
import { NodePort } from "../port/node.js";
import type { Verb } from "./dispatch.js";
import { dispatch } from "./dispatch.js";
import { BUILD_HELP, runBuild } from "./build.js";
import { IMAGE_HELP, runImage } from "./image.js";
import { PLAN_HELP, runPlan } from "./plan.js";
import { RUN_HELP, runRun } from "./run.js";
import { runSave, SAVE_HELP } from "./save.js";

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

const VERBS: Record<string, Verb> = {
  plan: { run: runPlan, help: PLAN_HELP },
  build: { run: runBuild, help: BUILD_HELP },
  image: { run: runImage, help: IMAGE_HELP },
  run: { run: runRun, help: RUN_HELP },
  save: { run: runSave, help: SAVE_HELP },
};

export function main(
  argv: readonly string[],
  out: (s: string) => void = (s) => console.log(s),
  err: (s: string) => void = (s) => console.error(s),
): Promise<number> {
  return dispatch(VERBS, HELP, argv, out, err);
}

setDefaultPort(new NodePort());
process.exitCode = await main(process.argv.slice(2));
