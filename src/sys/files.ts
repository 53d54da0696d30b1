// Reading files that may not be there (sysfs attributes, spec files): their
// absence is an answer, not an error. Small copies and removals without
// fs.cpSync's and fs.rmSync's general machinery, which is slow to start on
// an emulated CPU (the init uses them once each, at the hand-over).

import { copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { join } from "node:path";

/** A file's text, or undefined when it cannot be read. */
export function readTextIfAny(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Copy a tree of files, directories and symlinks into `to` (made if missing); existing files are replaced. */
export function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isDirectory()) copyTree(src, dst);
    else if (e.isSymbolicLink()) {
      removeIfAny(dst);
      symlinkSync(readlinkSync(src), dst);
    } else copyFileSync(src, dst);
  }
}

/** Remove a path if it exists: a file, symlink or empty directory at once, a full directory recursively. */
export function removeIfAny(path: string): void {
  let dir: boolean;
  try {
    dir = lstatSync(path).isDirectory();
  } catch {
    return;
  }
  if (!dir) return unlinkSync(path);
  try {
    rmdirSync(path);
  } catch {
    rmSync(path, { recursive: true, force: true });
  }
}
