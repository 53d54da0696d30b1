// Extended attributes on Node.js, whose fs cannot read or set them:
// getfattr/setfattr (Debian's attr, also in the runtime). One getfattr dump
// per tree and one setfattr restore keep it to two processes.

import { writeFileSync } from "node:fs";
import { run } from "../sys/exec.js";
import { runtimeTool } from "../sys/runtime.js";
import type { XattrEntry } from "./port.js";

/** Every extended attribute below dir (symlinks not followed), as getfattr sees them. */
export function dumpXattrs(dir: string): XattrEntry[] {
  const t = runtimeTool("getfattr");
  // Exit status 1 only means some file has none.
  const r = run(t.cmd, [...t.args, "-R", "-P", "-h", "-d", "-m", "-", "-e", "hex", "."], { cwd: dir, allowFail: true });
  if (r.status > 1) throw new Error(`getfattr failed in ${dir}: ${r.stderr.trim()}`);
  const out: XattrEntry[] = [];
  let cur: XattrEntry | undefined;
  for (const line of r.stdout.split("\n")) {
    const f = /^# file: (.*)$/.exec(line);
    if (f) {
      cur = { path: unescapeName(f[1]!), attrs: new Map() };
      out.push(cur);
      continue;
    }
    const a = /^([^=]+)=(0x[0-9a-f]*)$/.exec(line);
    if (a && cur) cur.attrs.set(a[1]!, a[2]!);
  }
  return out;
}

/** getfattr escapes unusual bytes in names as \ooo octal. */
function unescapeName(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const m = /^\\([0-7]{3})/.exec(s.slice(i));
    if (m) {
      bytes.push(parseInt(m[1]!, 8));
      i += 3;
    } else bytes.push(...Buffer.from(s[i]!, "utf8"));
  }
  return Buffer.from(bytes).toString("utf8");
}

function escapeName(s: string): string {
  return Array.from(Buffer.from(s, "utf8"), (b) =>
    b < 0x21 || b > 0x7e || b === 0x5c || b === 0x3d ? `\\${b.toString(8).padStart(3, "0")}` : String.fromCharCode(b),
  ).join("");
}

/** Set these attributes below dir in one setfattr run (its input written to scratchFile). */
export function restoreXattrs(dir: string, entries: readonly XattrEntry[], scratchFile: string): void {
  const lines: string[] = [];
  for (const e of entries) {
    if (e.attrs.size === 0) continue;
    lines.push(`# file: ${escapeName(e.path)}`);
    for (const [k, v] of e.attrs) lines.push(`${k}=${v}`);
    lines.push("");
  }
  if (lines.length === 0) return;
  writeFileSync(scratchFile, lines.join("\n"));
  const t = runtimeTool("setfattr");
  run(t.cmd, [...t.args, "-h", `--restore=${scratchFile}`], { cwd: dir });
}
