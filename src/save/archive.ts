// Archive saves (PUPMODE 66, on FAT and exFAT where a save folder cannot
// live): the RAM layer as PREFIXsave66.tar.gz beside the main SFS, unpacked
// into RAM at boot. GNU tar (the runtime's) keeps whiteouts (character
// devices) and overlay's xattrs (opaque directories), which busybox's cannot.
// The new archive is written beside the old one and renamed over it only
// when whole, so a failed save leaves the previous archive.

import type { Progress } from "../lib/progress.js";
import { defaultPort } from "../port/default.js";
import { dirname, join } from "../lib/path.js";
import type { Port } from "../port/port.js";
import { leftOutOfSave } from "./excludes.js";

/** The archive's members: everything in the layer but what saves leave out (a directory left out takes its contents). */
export function archiveMembers(layer: string, port: Port = defaultPort()): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of port.readDir(join(layer, rel))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (leftOutOfSave(port, layer, r, e.kind)) continue;
      out.push(r);
      if (e.kind === "dir") walk(r);
    }
  };
  walk("");
  return out;
}

const TAR_XATTRS = ["--xattrs", "--xattrs-include=*", "--numeric-owner"];

/** Write the layer to `archive` (via ARCHIVE.new, synced, then renamed). */
export function writeArchive(
  layer: string,
  archive: string,
  progress?: Progress,
  port: Port = defaultPort(),
): { members: number; bytes: number } {
  const members = archiveMembers(layer, port);
  const list = `/tmp/ramstack-archive-${port.pid()}.list`;
  const tmp = `${archive}.new`;
  port.writeText(list, members.map((m) => `./${m}\0`).join(""));
  try {
    progress?.note(`writing ${members.length} entries to ${tmp}`);
    // POSIX (pax) format: xattrs and sub-second times.
    port.tool("tar", [
      "--create",
      "--gzip",
      "--format=posix",
      "--file",
      tmp,
      ...TAR_XATTRS,
      "--directory",
      layer,
      "--no-recursion",
      "--null",
      "--files-from",
      list,
    ]);
    port.syncFs(tmp);
    port.rename(tmp, archive);
    port.syncFs(dirname(archive));
    const st = port.stat(archive);
    if (!st) throw new Error(`${archive} is gone after the rename`);
    return { members: members.length, bytes: st.size };
  } catch (e) {
    port.remove(tmp);
    throw e;
  } finally {
    port.remove(list);
  }
}

/** The tar command that unpacks an archive save into a (fresh) RAM layer. */
export function unpackArchiveArgs(archive: string, layer: string): string[] {
  return [
    "--extract",
    "--gzip",
    "--file",
    archive,
    ...TAR_XATTRS,
    "--same-permissions",
    "--same-owner",
    "--directory",
    layer,
  ];
}
