// The init and the ramstack command as single ESM files, so that the initrd
// and the running system need no node_modules and load one file each.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The compiled project (dist/src) this module belongs to. */
const distSrc = fileURLToPath(new URL("..", import.meta.url));
const packageRoot = fileURLToPath(new URL("../../..", import.meta.url));

export interface Bundles {
  init: Buffer;
  cli: Buffer;
}

export async function bundleTools(): Promise<Bundles> {
  // esbuild is loaded only here: the ramstack command in a running system has no build tools.
  const esbuild = await import("esbuild");
  const one = (entry: string): Buffer => {
    const r = esbuild.buildSync({
      entryPoints: [distSrc + entry],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node22",
      external: ["esbuild"],
      write: false,
      legalComments: "none",
      // Paths in the bundle's comments are relative to this, so they do not depend on the build directory.
      absWorkingDir: packageRoot,
      logLevel: "error",
    });
    const out = r.outputFiles[0];
    if (!out) throw new Error(`esbuild produced nothing for ${entry}`);
    return Buffer.from(out.contents);
  };
  return { init: one("init/main.js"), cli: one("cli/main.js") };
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(packageRoot + "package.json", "utf8")) as { version: string }).version;
}
