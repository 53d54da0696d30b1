// Extended attributes and whiteouts of a save, through the port: one dump
// per tree and one restore (on Node.js, one getfattr and one setfattr run).

import type { Port, XattrEntry } from "../port/port.js";

export type { XattrEntry };

/** Every extended attribute below dir (symlinks not followed). */
export function dumpXattrs(port: Port, dir: string): XattrEntry[] {
  return port.xattrs(dir);
}

/** Set these attributes below dir at once (scratchFile: where the port may write them on the way). */
export function restoreXattrs(port: Port, dir: string, entries: readonly XattrEntry[], scratchFile: string): void {
  port.setXattrs(dir, entries, scratchFile);
}

/** An overlay whiteout: a character device 0:0. */
export function makeWhiteout(port: Port, path: string): void {
  port.mknodChar(path, 0, 0);
}

export const OPAQUE = "trusted.overlay.opaque";
/** "y" */
export const OPAQUE_YES = "0x79";
