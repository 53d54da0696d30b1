// Building SFS layers with mksquashfs, reproducibly: fixed times, files
// owned by root, no xattrs from the build host, sorted input.

import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Progress } from "../lib/progress.js";
import { run, runStreaming } from "../sys/exec.js";

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
  run("mksquashfs", squashArgs(srcDir, out, opts), { env: squashEnv() });
}

/**
 * mksquashfs of a large tree, its progress shown: the bytes it has read
 * (/proc/PID/io's rchar, all its threads) of the tree's size. Its own bar
 * comes out on a pipe only now and then.
 */
export async function mksquashfsShowing(srcDir: string, out: string, opts: SquashOptions, p: Progress): Promise<void> {
  const total = Number(run("du", ["-sb", "--apparent-size", srcDir]).stdout.split(/\s/)[0] ?? 0);
  const MiB = (n: number): string => (n / 1048576).toFixed(0);
  const look = (pid: number): void => {
    let io: string;
    try {
      io = readFileSync(`/proc/${pid}/io`, "utf8");
    } catch {
      return;
    }
    const read = Number(/^rchar: (\d+)/m.exec(io)?.[1] ?? 0);
    // It also reads some of what it wrote back (duplicate checks): 99% until it is done.
    p.update(Math.min(read, total * 0.99), total, `of ${MiB(total)} MiB`);
  };
  await runStreaming("mksquashfs", squashArgs(srcDir, out, opts), {
    env: squashEnv(),
    poll: { everyMs: 250, fn: look },
  });
  p.update(total, total, `of ${MiB(total)} MiB`);
  p.end("");
}

function squashArgs(srcDir: string, out: string, opts: SquashOptions): string[] {
  mkdirSync(dirname(out), { recursive: true });
  rmSync(out, { force: true });
  const { comp, level } = opts.compression;
  return [
    srcDir,
    out,
    "-noappend",
    "-no-progress",
    "-quiet",
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
