// What a build ships, unpacked for the host: the running system's ramstack
// (the QuickJS runtime from the initrd and the command's bytecode from the
// main SFS), so that tests and the bench run the saver exactly as the
// system does.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../sys/exec.js";
import { readManifest } from "./build.js";

/** The command that prints an initrd's cpio archive (zstd for a release build, lz4 for --fast). */
export function initrdCat(initrd: string): string {
  const magic = readFileSync(initrd).subarray(0, 4).toString("hex");
  return `${magic === "28b52ffd" ? "zstd" : "lz4"} -dc '${initrd}'`;
}

/** Unpack into DIR; the argv prefix that runs the shipped ramstack: [engine, bytecode]. */
export function shippedRamstack(build: string, dir: string): string[] {
  const puppy = Object.keys(readManifest(build).files).find((f) => f.startsWith("puppy_"));
  if (!puppy) throw new Error(`${build} has no main SFS`);
  run("mkdir", ["-p", dir]);
  run("sh", [
    "-c",
    `${initrdCat(join(build, "initrd.gz"))} | (cd '${dir}' && cpio -id --quiet runtime/bin/ramstack-js)`,
  ]);
  run("unsquashfs", ["-q", "-n", "-f", "-d", join(dir, "sfs"), join(build, puppy), "usr/lib/ramstack"]);
  return [join(dir, "runtime/bin/ramstack-js"), join(dir, "sfs/usr/lib/ramstack/ramstack.qbc")];
}
