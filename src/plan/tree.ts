// A read-only view of the files on one partition (or inside an image file).
// The planner asks it questions; the JSON machine and the real init each
// provide one.

import type { FileEntry } from "./machine.js";

export type NodeKind = "file" | "dir";

export interface NodeInfo {
  kind: NodeKind;
  sizeMiB: number;
  /** The image inside a file (save file, ISO), when its contents are known. */
  image?: FileTree;
  fstype?: string;
  luks?: boolean;
}

export interface FileTree {
  /** Follows symlinks inside the tree; undefined when nothing is there. */
  stat(path: string): NodeInfo | undefined;
  /** Names directly inside a directory, sorted; empty when not a directory. */
  list(dir: string): string[];
  /** Text content of a small file, undefined when unknown or missing. */
  read(path: string): string | undefined;
}

/** Normalise to `/a/b`: leading slash, no trailing slash, no `//`, `.` or `..`. */
export function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const p of path.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return "/" + parts.join("/");
}

export function dirname(path: string): string {
  const n = normalizePath(path);
  const i = n.lastIndexOf("/");
  return i <= 0 ? "/" : n.slice(0, i);
}

export function basename(path: string): string {
  const n = normalizePath(path);
  return n.slice(n.lastIndexOf("/") + 1);
}

export function joinPath(...parts: string[]): string {
  return normalizePath(parts.join("/"));
}

/** A FileTree over the JSON machine's `files` map. */
export class JsonTree implements FileTree {
  private readonly entries = new Map<string, FileEntry>();
  private readonly dirs = new Set<string>(["/"]);

  constructor(files: Record<string, FileEntry>) {
    for (const [raw, entry] of Object.entries(files)) {
      const path = normalizePath(raw);
      this.entries.set(path, entry);
      if (entry === "dir") this.dirs.add(path);
      for (let d = dirname(path); ; d = dirname(d)) {
        this.dirs.add(d);
        if (d === "/") break;
      }
    }
  }

  private resolve(path: string, depth = 0): string | undefined {
    if (depth > 8) return undefined; // a symlink loop
    const parts = normalizePath(path).split("/").filter(Boolean);
    let cur = "/";
    for (let i = 0; i < parts.length; i++) {
      const next = joinPath(cur, parts[i]!);
      const e = this.entries.get(next);
      if (typeof e === "object" && e.symlink !== undefined) {
        const target = e.symlink.startsWith("/") ? e.symlink : joinPath(cur, e.symlink);
        const resolved = this.resolve(joinPath(target, ...parts.slice(i + 1)), depth + 1);
        return resolved;
      }
      cur = next;
    }
    return cur;
  }

  stat(path: string): NodeInfo | undefined {
    const p = this.resolve(path);
    if (p === undefined) return undefined;
    const e = this.entries.get(p);
    if (e === undefined || e === "dir") return this.dirs.has(p) ? { kind: "dir", sizeMiB: 0 } : undefined;
    if (typeof e === "number") return this.dirs.has(p) ? { kind: "dir", sizeMiB: 0 } : { kind: "file", sizeMiB: e };
    if (this.dirs.has(p)) return { kind: "dir", sizeMiB: 0 };
    const info: NodeInfo = {
      kind: "file",
      sizeMiB: e.sizeMiB ?? (e.content !== undefined ? e.content.length / 1048576 : 0),
    };
    if (e.files) info.image = new JsonTree(e.files);
    if (e.fstype) info.fstype = e.fstype;
    if (e.luks) info.luks = true;
    return info;
  }

  list(dir: string): string[] {
    const d = this.resolve(dir);
    if (d === undefined || !this.dirs.has(d)) return [];
    const names = new Set<string>();
    const prefix = d === "/" ? "/" : d + "/";
    for (const p of [...this.entries.keys(), ...this.dirs]) {
      if (p.startsWith(prefix) && p !== d) names.add(p.slice(prefix.length).split("/")[0]!);
    }
    return [...names].sort();
  }

  read(path: string): string | undefined {
    const p = this.resolve(path);
    if (p === undefined) return undefined;
    const e = this.entries.get(p);
    return typeof e === "object" && e.content !== undefined ? e.content : undefined;
  }
}
