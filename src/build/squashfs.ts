// Building SFS layers with mksquashfs, reproducibly: fixed times, files
// owned by root, no xattrs from the build host, sorted input.

import { mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Progress } from "../lib/progress.js";
import { lineSplitter, run, runStreaming } from "../sys/exec.js";

/** "none" stores data as is: for an SFS inside a compressed initrd, read without decompressing. */
export type SquashComp = "zstd" | "xz" | "gzip" | "none";

/** A compressor and, for zstd, its level: "xz", "zstd", "zstd:3". */
export interface Compression {
  comp: SquashComp;
  level?: number;
}

export function parseCompression(text: string): Compression {
  const m = /^(xz|zstd|gzip)(?::(\d{1,2}))?$/.exec(text);
  if (!m) throw new Error(`compression '${text}' is not one of xz, gzip, zstd, zstd:LEVEL`);
  const c: Compression = { comp: m[1] as SquashComp };
  if (m[2] !== undefined) {
    if (c.comp !== "zstd" || Number(m[2]) < 1 || Number(m[2]) > 22)
      throw new Error(`compression '${text}': only zstd takes a level (1-22)`);
    c.level = Number(m[2]);
  }
  return c;
}

export interface SquashOptions {
  compression: Compression;
  epoch: number;
  blockSize?: string;
  keepOwners?: boolean;
}

export function mksquashfs(srcDir: string, out: string, opts: SquashOptions): void {
  run("mksquashfs", squashArgs(srcDir, out, opts, false), { env: squashEnv() });
}

/** mksquashfs of a large tree, its progress shown: "[===-  ] 800/7275  10%" on its stdout. */
export async function mksquashfsShowing(srcDir: string, out: string, opts: SquashOptions, p: Progress): Promise<void> {
  const each = lineSplitter((line) => {
    const m = /(\d+)\/(\d+)\s+\d+%\s*$/.exec(line);
    if (m) p.update(Number(m[1]), Number(m[2]));
  });
  await runStreaming("mksquashfs", squashArgs(srcDir, out, opts, true), { env: squashEnv(), onStdout: each });
  p.end("");
}

function squashArgs(srcDir: string, out: string, opts: SquashOptions, progress: boolean): string[] {
  mkdirSync(dirname(out), { recursive: true });
  rmSync(out, { force: true });
  const { comp, level } = opts.compression;
  return [
    srcDir,
    out,
    "-noappend",
    // -quiet leaves only the bar, which -progress keeps even on a pipe.
    ...(progress ? ["-quiet", "-progress"] : ["-no-progress", "-quiet"]),
    ...(comp === "none" ? ["-noI", "-noId", "-noD", "-noF", "-noX"] : ["-comp", comp]),
    ...(comp === "zstd" ? ["-Xcompression-level", String(level ?? 19)] : comp === "xz" ? ["-Xbcj", "x86"] : []),
    "-b",
    opts.blockSize ?? "256K",
    // A Debian tree made by its maintainer scripts has owners (shadow, _apt) and file capabilities of its own.
    ...(opts.keepOwners ? ["-xattrs"] : ["-all-root", "-no-xattrs"]),
    "-mkfs-time",
    String(opts.epoch),
    "-all-time",
    String(opts.epoch),
  ];
}

/** The times come from the options; mksquashfs refuses SOURCE_DATE_EPOCH alongside them. */
function squashEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SOURCE_DATE_EPOCH;
  return env;
}
