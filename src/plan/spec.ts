// `partition[:path/filename]` specs (decode_spec) and finding an SFS file
// from one (find_drv_file).

import type { FileTree } from "./tree.js";
import { joinPath, normalizePath } from "./tree.js";

export interface Spec {
  /** Partition name, label or UUID (prefix); "" when only a path was given. */
  id: string;
  /** Path on the partition, '/'-rooted; "" when not given. May end in '/'. */
  path: string;
  /** The path ended in '/': it names a directory, not a file. */
  isDir: boolean;
}

/**
 * Text before the first ':' is the partition, the rest the path. A path with
 * a '/' that does not start with one gets it; a bare file name is taken in
 * psubdir.
 */
export function decodeSpec(value: string, psubdir: string): Spec {
  const colon = value.indexOf(":");
  const id = (colon < 0 ? value : value.slice(0, colon)).trim();
  let fn = colon < 0 ? "" : value.slice(colon + 1).trim();
  if (fn !== "") {
    if (fn.includes("/")) {
      if (!fn.startsWith("/")) fn = "/" + fn;
    } else fn = `${psubdir}/${fn}`;
  }
  const isDir = fn.endsWith("/");
  return {
    id,
    path: fn === "" ? "" : isDir ? normalizePath(fn) + (normalizePath(fn) === "/" ? "" : "/") : normalizePath(fn),
    isDir,
  };
}

/** The path of an SFS named by a spec, or the default name in psubdir. */
export function sfsPathFor(spec: Spec | null, defaultName: string, psubdir: string): string {
  if (!spec || spec.path === "") return joinPath(psubdir, defaultName);
  if (spec.isDir) return joinPath(spec.path, defaultName);
  return spec.path;
}

/** An SFS must be a regular, non-empty file. */
export function sfsProblem(tree: FileTree, path: string): string | null {
  const st = tree.stat(path);
  if (!st) return "not found";
  if (st.kind !== "file") return "is a directory, not a file";
  if (st.sizeMiB <= 0) return "is empty";
  return null;
}
