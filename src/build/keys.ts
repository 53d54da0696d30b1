// What each build step's key is made of: everything the step reads. A step
// is run again when, and only when, one of these changes:
//
// - the components it copies (versions, or file hashes where a version
//   says too little),
// - the data tables it writes out (INITRD_MODULES, the head start's, the
//   keymaps, the profile's layer definitions, DEB_EXCLUDES),
// - the options (compression, epoch, DISTRO_SPECS),
// - the versions of the host tools it runs (mksquashfs and the compression
//   libraries it links, zstd or lz4, depmod, loadkeys),
// - the code that makes it: the compiled modules the step's functions live
//   in and every module they import (see codeHash).
//
// The key functions take all of this explicitly, so that which step depends
// on what is testable without building anything; build.ts gathers the facts.

import { existsSync, readFileSync, realpathSync } from "node:fs";
import { delimiter, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../sys/exec.js";
import { sha256 } from "../sys/hash.js";
import type { InitrdCompression } from "./cpio.js";
import type { ExtraLayer, LayerRecipe } from "./profiles.js";
import type { Compression } from "./squashfs.js";
import type { Arch } from "./arch.js";

/** The host tools whose versions go into keys. */
export type Tool = "mksquashfs" | "zstd" | "lz4" | "depmod" | "loadkeys";

const VERSION_ARGS: Record<Tool, string[]> = {
  mksquashfs: ["-version"],
  zstd: ["--version"],
  lz4: ["--version"],
  depmod: ["--version"],
  loadkeys: ["--version"],
};

function onPath(cmd: string): string | undefined {
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    const p = join(d || ".", cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * The compression libraries a program links, by their real file names
 * (libzstd.so.1.5.4): mksquashfs compresses with them, not with the zstd or
 * xz programs, and its own version does not change when they do.
 */
function compressionLibs(program: string): string[] {
  const r = run("ldd", [program], { allowFail: true });
  const libs: string[] = [];
  for (const m of r.stdout.matchAll(/^\s*(lib(?:z|lzma|lzo2|lz4|zstd)\.so\S*) => (\S+)/gm)) {
    let file = m[2]!;
    try {
      file = realpathSync(file);
    } catch {
      // Listed but unreadable: its soname is all there is.
    }
    libs.push(file.slice(file.lastIndexOf("/") + 1));
  }
  return libs.sort();
}

const toolVersions = new Map<Tool, string>();

/**
 * What a tool says its version is (its first line), asked once per process
 * (a build is one process). A tool that is not installed is "absent": the
 * step that needs it fails by itself, with the tool's name.
 */
export function toolVersion(tool: Tool): string {
  const known = toolVersions.get(tool);
  if (known !== undefined) return known;
  let v: string;
  const path = onPath(tool);
  if (path === undefined) v = "absent";
  else {
    const r = run(path, VERSION_ARGS[tool], { allowFail: true });
    v = (r.stdout.trim() || r.stderr.trim()).split("\n")[0]!.trim();
    if (tool === "mksquashfs") v = [v, ...compressionLibs(path)].join(" ");
  }
  toolVersions.set(tool, v);
  return v;
}

/** The compiled build code (dist/src/build). */
const buildDir = dirname(fileURLToPath(import.meta.url));
const codeHashes = new Map<string, string>();

/**
 * The modules a compiled module imports by relative path: tsc writes each
 * static import or re-export on a line of its own, and the build code has no
 * dynamic import of its own modules (only of esbuild).
 */
function relativeImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\b[^\n]*?["'](\.{1,2}\/[^"'\n]+)["'];?\s*$/gm)) out.push(m[1]!);
  return out;
}

/** The module that holds the steps' bodies, hashed for every step (not its imports). */
const RECIPE = "build.js";

/**
 * The hash of a step's code: the text of the compiled modules it names
 * (relative to dist/src/build) and of every module they import, transitively.
 *
 * Why the compiled files and their import closure, rather than the source of
 * a few named functions (what the keys held before) or the whole directory:
 * a function's text leaves out the tables and helpers it calls
 * (INITRD_MODULES, installModules, mksquashfs's arguments), so a change there
 * left a stale output; the whole directory would rebuild every output for a
 * change to any builder module (the image writer, the CLI's table). The
 * import closure is exactly the code a step can run, it follows new imports
 * by itself, and the compiled text is what actually runs (types and comments
 * aside, a change to the source is a change to it).
 *
 * build.js holds every step's body (the lambdas handed to Steps.step) and
 * imports every builder module, so its closure would be everything for every
 * step: it is hashed on its own text (RECIPE) for every step, and each step
 * names the modules its body calls, whose closures are followed.
 */
export function codeHash(entries: readonly string[]): string {
  const id = [...entries].sort().join(" ");
  const known = codeHashes.get(id);
  if (known !== undefined) return known;
  const parts = [...codeFiles(entries)].map(([name, text]) => `${name}\n${sha256(text)}`).sort();
  const h = sha256(parts.join("\n"));
  codeHashes.set(id, h);
  return h;
}

/** The compiled modules behind codeHash, by their names under dist/src (build/trees.js), with their text. */
export function codeFiles(entries: readonly string[]): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string, follow: boolean): void => {
    if (seen.has(file)) return;
    const text = readFileSync(file, "utf8");
    seen.set(file, text);
    if (follow) for (const rel of relativeImports(text)) visit(resolve(dirname(file), rel), true);
  };
  visit(resolve(buildDir, RECIPE), false);
  for (const e of entries) visit(resolve(buildDir, e), true);
  // Names relative to dist/src, so that the key does not depend on where the project is.
  const srcDir = dirname(buildDir);
  return new Map([...seen].map(([f, text]) => [relative(srcDir, f), text]));
}

/** The modules each kind of step's body calls into (their imports are followed). */
export const STEP_CODE = {
  vmlinuz: [],
  rootfs: ["trees.js", "squashfs.js"],
  zdrv: ["trees.js", "squashfs.js"],
  layer: ["trees.js", "squashfs.js"],
  initrd: ["trees.js", "cpio.js", "keymaps.js", "modules.js", "squashfs.js"],
} as const satisfies Record<string, readonly string[]>;

export type StepKind = keyof typeof STEP_CODE;

/** Everything the steps of one build read, gathered once by build(). */
export interface BuildInputs {
  arch: Arch;
  /** Component versions (componentVersions). */
  kernel: string;
  busybox: string;
  firmware: string;
  /** The hash of the kernel's modules.dep, which zdrv copies (made by depmod in the package cache). */
  modulesDep: string;
  /** Hashes of the bundled init and ramstack command. */
  initBundle: string;
  cliBundle: string;
  /** The hash of the runtime's files (the JavaScript engine, the initrd's and the main SFS's tools, their libraries). */
  runtime: string;
  /** The hash of the JavaScript engine alone: it compiles the bundles to bytecode. */
  jsEngine: string;
  /** The hash of the keymap sources, by name. */
  keymaps: string;
  specs: string;
  epoch: number;
  compression: Compression;
  initrdCompression: InitrdCompression;
  profile: string;
  initrdModules: readonly string[];
  headStart: readonly string[];
  debExcludes: readonly string[];
  tools: Record<Tool, string>;
  code: Record<StepKind, string>;
}

/** The host tools a step runs. */
const sfsTools = (i: BuildInputs): Record<string, string> => ({ mksquashfs: i.tools.mksquashfs });
const sfsOpts = (i: BuildInputs): { compression: Compression; epoch: number } => ({
  compression: i.compression,
  epoch: i.epoch,
});

export function vmlinuzKey(i: BuildInputs): unknown {
  return { arch: i.arch, kernel: i.kernel, code: i.code.vmlinuz };
}

/** The main SFS. The command's bundle holds the builder too, but its code is named anyway. */
export function rootfsKey(i: BuildInputs): unknown {
  return {
    arch: i.arch,
    profile: i.profile,
    busybox: i.busybox,
    cli: i.cliBundle,
    jsEngine: i.jsEngine,
    // The main SFS carries the system's runtime (the engine, cryptsetup, tar).
    runtime: i.runtime,
    specs: i.specs,
    sfsOpts: sfsOpts(i),
    tools: sfsTools(i),
    code: i.code.rootfs,
  };
}

/** zdrv: every module of the kernel and, unless an fdrv holds it, the firmware. */
export function zdrvKey(i: BuildInputs, firmware: boolean): unknown {
  return {
    arch: i.arch,
    kernel: i.kernel,
    modulesDep: i.modulesDep,
    firmware: firmware && i.firmware,
    sfsOpts: sfsOpts(i),
    tools: sfsTools(i),
    code: i.code.zdrv,
  };
}

/** An optional layer: its definition in the profile and the packages planned for it ("name=version"). */
export function layerKey(i: BuildInputs, kind: ExtraLayer, recipe: LayerRecipe, packages: readonly string[]): unknown {
  return {
    arch: i.arch,
    kind,
    layer: recipe,
    packages,
    firmware: recipe.firmware === true && i.firmware,
    excludes: i.debExcludes,
    sfsOpts: sfsOpts(i),
    tools: sfsTools(i),
    code: i.code.layer,
  };
}

/** initrd.gz; `humongous` is the hashes of the SFS files put inside it, or null. */
export function initrdKey(i: BuildInputs, humongous: readonly string[] | null): unknown {
  return {
    arch: i.arch,
    init: i.initBundle,
    // The engine that compiled init.qbc.
    jsEngine: i.jsEngine,
    runtime: i.runtime,
    keymaps: i.keymaps,
    kernel: i.kernel,
    busybox: i.busybox,
    specs: i.specs,
    epoch: i.epoch,
    modules: i.initrdModules,
    headStart: i.headStart,
    compression: i.initrdCompression,
    humongous,
    // The drivers are a squashfs image inside it.
    sfsOpts: sfsOpts(i),
    tools: {
      mksquashfs: i.tools.mksquashfs,
      compressor: i.tools[i.initrdCompression],
      depmod: i.tools.depmod,
      // Keymaps are compiled only when there are any.
      loadkeys: i.keymaps === EMPTY_KEYMAPS ? null : i.tools.loadkeys,
    },
    code: i.code.initrd,
  };
}

/** The keymaps' hash when there are none. */
export const EMPTY_KEYMAPS = sha256("[]");

/** The keymaps' hash: each name and its source file's hash. */
export function keymapsHash(sources: ReadonlyMap<string, string>, fileSha: (path: string) => string): string {
  return sha256(JSON.stringify([...sources].map(([n, f]) => [n, fileSha(f)])));
}

/** All the tools' versions and the steps' code hashes, each asked or read once. */
export function hostFacts(): { tools: Record<Tool, string>; code: Record<StepKind, string> } {
  const tools = Object.fromEntries((Object.keys(VERSION_ARGS) as Tool[]).map((t) => [t, toolVersion(t)])) as Record<
    Tool,
    string
  >;
  const code = Object.fromEntries(
    (Object.keys(STEP_CODE) as StepKind[]).map((k) => [k, codeHash(STEP_CODE[k])]),
  ) as Record<StepKind, string>;
  return { tools, code };
}
