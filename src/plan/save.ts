// Finding a save layer on a partition (Puppy init 1.12): archive, multisession
// folders, a whole-partition save, a named file or folder, or a search.

import type { Part } from "./devices.js";
import { isArchiveFs, isLinuxFs } from "./filesystems.js";
import { UPPER_DIR } from "./overlay.js";
import type { FileTree } from "./tree.js";
import { joinPath } from "./tree.js";

export interface SaveCandidate {
  part: Part;
  path: string;
  kind: "folder" | "file";
  /** ext2/3/4 inside a save file. */
  fileFs?: string;
  encrypted?: boolean;
  image?: FileTree;
  sizeMiB: number;
}

const SAVE_FILE = /\.[234]fs$/;

/** Classify one path as a save, or say why it is not one. */
export function classifySave(part: Part, path: string): SaveCandidate | { reason: string } {
  const st = part.tree.stat(path);
  if (!st) return { reason: "not found" };
  if (st.kind === "dir") {
    if (!isLinuxFs(part.fstype))
      return { reason: `a save folder needs a Linux filesystem, ${part.name} is ${part.fstype}` };
    return { part, path, kind: "folder", sizeMiB: 0 };
  }
  if (st.sizeMiB <= 0) return { reason: "is an empty file" };
  if (/\.sfs$/.test(path)) return { reason: "is an SFS, not a save" };
  if (/save66\.tar\.gz$/.test(path)) return { reason: "is an archive save (used only on FAT/exFAT)" };
  const m = /\.([234])fs$/.exec(path);
  const c: SaveCandidate = { part, path, kind: "file", sizeMiB: st.sizeMiB };
  c.fileFs = st.fstype ?? (m ? `ext${m[1]}` : "ext4");
  if (st.luks || /_luks/.test(path)) c.encrypted = true;
  if (st.image) c.image = st.image;
  return c;
}

/**
 * Saves named PREFIXsave* in a directory: non-empty *.2fs/.3fs/.4fs files,
 * and directories on a Linux filesystem. Anything else is listed as rejected.
 */
export function savesInDir(
  part: Part,
  dir: string,
  prefix: string,
): { found: SaveCandidate[]; rejected: { path: string; reason: string }[] } {
  const found: SaveCandidate[] = [];
  const rejected: { path: string; reason: string }[] = [];
  for (const name of part.tree.list(dir)) {
    if (!name.startsWith(`${prefix}save`)) continue;
    const path = joinPath(dir, name);
    const st = part.tree.stat(path);
    if (!st) continue;
    if (st.kind === "file" && !SAVE_FILE.test(name)) {
      rejected.push({
        path,
        reason: /save66\.tar\.gz$/.test(name)
          ? "archive save, used only on FAT/exFAT"
          : "not a .2fs/.3fs/.4fs save file",
      });
      continue;
    }
    const c = classifySave(part, path);
    if ("reason" in c) rejected.push({ path, reason: c.reason });
    else found.push(c);
  }
  return { found, rejected };
}

export function archivePath(dir: string, prefix: string): string {
  return joinPath(dir, `${prefix}save66.tar.gz`);
}

/**
 * The archive save on a FAT/exFAT partition: "whole", or "new" when only
 * the saver's ARCHIVE.new is there (FAT's rename is not journaled: a power
 * cut while the new archive replaced the old can leave just the new one).
 */
export function archiveSave(part: Part, dir: string, prefix: string): "whole" | "new" | null {
  if (!isArchiveFs(part.fstype)) return null;
  const file = (p: string): boolean => {
    const st = part.tree.stat(p);
    return st?.kind === "file" && st.sizeMiB > 0;
  };
  if (file(archivePath(dir, prefix))) return "whole";
  return file(`${archivePath(dir, prefix)}.new`) ? "new" : null;
}

const SESSION = /^\d{4}-\d{2}-\d{2}-\d{2}-\d{2}$/;

/**
 * Multisession folders on an optical disc, newest first, without the
 * blacklisted ones (.badfolders in the newest folder, and the newest N with
 * pfix=N).
 */
export function multisessionFolders(part: Part, ignoreNewest: number): { folders: string[]; skipped: string[] } {
  const all = part.tree
    .list("/")
    .filter((n) => SESSION.test(n) && part.tree.stat("/" + n)?.kind === "dir")
    .sort()
    .reverse();
  const bad = new Set(all.slice(0, ignoreNewest));
  const newestGood = all.find((f) => !bad.has(f));
  const list = newestGood !== undefined ? part.tree.read(`/${newestGood}/.badfolders`) : undefined;
  for (const line of (list ?? "").split(/\s+/)) if (line) bad.add(line.replace(/^\/+|\/+$/g, ""));
  return { folders: all.filter((f) => !bad.has(f)).map((f) => "/" + f), skipped: all.filter((f) => bad.has(f)) };
}

/**
 * A whole-partition save (PUPMODE 12 on a partition of its own): a Linux
 * filesystem holding etc/rc.d/PUPSTATE at its root (or under upper/ for an
 * overlay layer), not that of a full install.
 */
export function wholePartitionSave(part: Part): { layout: "aufs" | "overlay" } | null {
  if (!isLinuxFs(part.fstype)) return null;
  for (const [path, layout] of [
    ["/etc/rc.d/PUPSTATE", "aufs"],
    [`/${UPPER_DIR}/etc/rc.d/PUPSTATE`, "overlay"],
  ] as const) {
    const st = part.tree.stat(path);
    if (st?.kind !== "file") continue;
    const text = part.tree.read(path) ?? "";
    if (/^\s*PUPMODE=['"]?2['"]?\s*$/m.test(text)) return null;
    return { layout };
  }
  return null;
}

/** Which union a save layer was made for: overlay keeps upper/ (and work/), aufs the layer itself. */
export function saveLayout(tree: FileTree, root: string): "overlay" | "aufs" | "empty" {
  const names = tree.list(root).filter((n) => n !== "lost+found");
  if (names.length === 0) return "empty";
  if (names.includes(UPPER_DIR)) return "overlay";
  return "aufs";
}
