// Archive saves (PUPMODE 66, on FAT and exFAT where a save folder cannot
// live): the RAM layer as PREFIXsave66.tar.gz beside the main SFS, unpacked
// into RAM at boot. GNU tar (the runtime's) keeps whiteouts (character
// devices) and overlay's xattrs (opaque directories), which busybox's cannot.
// The new archive is written beside the old one and renamed over it only
// when whole, so a failed save leaves the previous archive.

import { readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "../sys/exec.js";
import { runtimeTool } from "../sys/runtime.js";
import { isExcluded } from "./excludes.js";

/** The archive's members: everything in the layer but what saves leave out (a directory left out takes its contents). */
export function archiveMembers(layer: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(layer, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (isExcluded(r)) continue;
      out.push(r);
      if (e.isDirectory()) walk(r);
    }
  };
  walk("");
  return out;
}

const TAR_XATTRS = ["--xattrs", "--xattrs-include=*", "--numeric-owner"];

/** Write the layer to `archive` (via ARCHIVE.new, synced, then renamed). */
export function writeArchive(layer: string, archive: string, progress?: (s: string) => void): { members: number; bytes: number } {
  const members = archiveMembers(layer);
  const list = `/tmp/ramstack-archive-${process.pid}.list`;
  const tmp = `${archive}.new`;
  writeFileSync(list, members.map((m) => `./${m}\0`).join(""));
  try {
    progress?.(`writing ${members.length} entries to ${tmp}`);
    const t = runtimeTool("tar");
    // POSIX (pax) format: xattrs and sub-second times.
    run(t.cmd, ["--create", "--gzip", "--format=posix", "--file", tmp, ...TAR_XATTRS, "--directory", layer, "--no-recursion", "--null", "--files-from", list], { env: t.env });
    run("sync", ["-f", tmp]);
    renameSync(tmp, archive);
    run("sync", ["-f", dirname(archive)]);
    return { members: members.length, bytes: statSync(archive).size };
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    rmSync(list, { force: true });
  }
}

/** The tar command that unpacks an archive save into a (fresh) RAM layer. */
export function unpackArchiveArgs(archive: string, layer: string): string[] {
  return ["--extract", "--gzip", "--file", archive, ...TAR_XATTRS, "--same-permissions", "--same-owner", "--directory", layer];
}
