// Console keymaps for pkeys=: Debian's console-data keymaps (installed on
// the build host by the set-up) compiled with kbd's `loadkeys -b` into
// busybox's binary format, gzipped, at /lib/keymaps/NAME.gz in the initrd,
// where Puppy keeps them.

import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { run } from "../sys/exec.js";

const SOURCE = "/usr/share/keymaps/i386";
const LAYOUTS = ["qwerty", "qwertz", "azerty", "dvorak", "colemak", "fgGIod"];

/** The keymap sources, name -> file; empty when console-data is not installed. */
export function keymapSources(root = SOURCE): Map<string, string> {
  const out = new Map<string, string>();
  for (const layout of LAYOUTS) {
    const dir = join(root, layout);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      const m = /^(.+)\.kmap\.gz$/.exec(f);
      if (m && !out.has(m[1]!)) out.set(m[1]!, join(dir, f));
    }
  }
  return out;
}

/** Compile each keymap into DIR/NAME.gz; a keymap loadkeys cannot read is skipped and named. */
export function installKeymaps(dir: string, sources: Map<string, string>): { skipped: string[] } {
  mkdirSync(dir, { recursive: true });
  const skipped: string[] = [];
  for (const [name, file] of sources) {
    const r = run("loadkeys", ["-q", "-b", file], { binary: true, allowFail: true });
    if (r.status !== 0 || r.stdoutBuf.length === 0) {
      skipped.push(name);
      continue;
    }
    // mtime 0 in the gzip header: the same keymap always gives the same bytes.
    writeFileSync(join(dir, `${name}.gz`), gzipSync(r.stdoutBuf, { level: 9 }));
  }
  return { skipped };
}
