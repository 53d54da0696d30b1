// What a build ships, unpacked for the host: the running system's ramstack
// (the QuickJS runtime and the command's bytecode, from the main SFS), so
// that tests and the bench run the saver exactly as the system does.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../sys/exec.js";
import { readManifest } from "./build.js";
import { SYSTEM_RUNTIME } from "../port/commands.js";
import { RUNTIME_JS } from "../plan/layout.js";

/** The command that prints an initrd's cpio archive (lz4 as built, zstd if asked for). */
export function initrdCat(initrd: string): string {
  const magic = readFileSync(initrd).subarray(0, 4).toString("hex");
  return `${magic === "28b52ffd" ? "zstd" : "lz4"} -dc '${initrd}'`;
}

/** Unpack into DIR; the argv prefix that runs the shipped ramstack: [engine, bytecode]. */
export function shippedRamstack(build: string, dir: string): string[] {
  const puppy = Object.keys(readManifest(build).files).find((f) => f.startsWith("puppy_"));
  if (!puppy) throw new Error(`${build} has no main SFS`);
  run("mkdir", ["-p", dir]);
  run("unsquashfs", ["-q", "-n", "-f", "-d", join(dir, "sfs"), join(build, puppy), "usr/lib/ramstack"]);
  return [join(dir, "sfs", SYSTEM_RUNTIME, "bin", RUNTIME_JS), join(dir, "sfs/usr/lib/ramstack/ramstack.qbc")];
}
