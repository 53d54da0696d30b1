// The init and the running system's ramstack command, each one ES module
// bundled for the small engine (QuickJS, with std, os and ramstack:sys as its
// only imports) and compiled to its bytecode: the initrd and the running
// system load one file each and skip the parse (a 340 KB bundle starts in
// ~9 ms instead of ~46 ms on the host, and an emulated CPU multiplies both).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../sys/exec.js";

/** The compiled project (dist/src) this module belongs to. */
const distSrc = fileURLToPath(new URL("..", import.meta.url));
const packageRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** The engine's own modules: everything else is in the bundle. */
export const ENGINE_MODULES = ["std", "os", "ramstack:sys"];

export interface Bundle {
  /** The ES module's source. */
  source: Buffer;
  /** Its bytecode for the runtime that compiled it. */
  bytecode: Buffer;
}

export interface Bundles {
  init: Bundle;
  cli: Bundle;
}

/** One entry (relative to dist/src, or an absolute path) as a single ES module for the small engine. */
export async function bundleForEngine(entry: string): Promise<Buffer> {
  // esbuild is loaded only here: the running system has no build tools.
  const esbuild = await import("esbuild");
  const r = esbuild.buildSync({
    entryPoints: [entry.startsWith("/") ? entry : distSrc + entry],
    bundle: true,
    // Not "node": a Node.js module reaching the bundle is an error, not a silent import that fails at boot.
    platform: "neutral",
    format: "esm",
    // QuickJS 2021-03-27 has ES2020 (BigInt, optional chaining); later syntax is lowered.
    target: "es2020",
    external: ENGINE_MODULES,
    write: false,
    legalComments: "none",
    // Paths in the bundle's comments are relative to this, so they do not depend on the build directory.
    absWorkingDir: packageRoot,
    logLevel: "error",
  });
  const out = r.outputFiles[0];
  if (!out) throw new Error(`esbuild produced nothing for ${entry}`);
  return Buffer.from(out.contents);
}

/** Bytecode of a module for RUNTIME (ramstack-js -c); NAME is what its stack traces call it. */
export function compileBytecode(runtime: string, source: Buffer, name: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "ramstack-qbc-"));
  try {
    writeFileSync(join(dir, name), source);
    run(runtime, ["-c", name, "out.qbc"], { cwd: dir });
    return readFileSync(join(dir, "out.qbc"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function bundleTools(runtime: string): Promise<Bundles> {
  const one = async (entry: string, name: string): Promise<Bundle> => {
    const source = await bundleForEngine(entry);
    return { source, bytecode: compileBytecode(runtime, source, name) };
  };
  return { init: await one("init/main.js", "init.js"), cli: await one("cli/system.js", "ramstack.js") };
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(packageRoot + "package.json", "utf8")) as { version: string }).version;
}
