// The debian profile's layers, split as Puppy splits a system:
// - bdrv: Debian's base as mmdebstrap made it (libraries, apt, dpkg,
//   sysvinit, ifupdown, ...), the part a user would swap for a newer Debian;
// - the main SFS: the ramstack system, i.e. ramstack's own files (the
//   command, /etc/rc.d, /etc/eventmanager, DISTRO_SPECS) and its integration
//   with Debian (inittab, init scripts and their links, network settings);
// - zdrv: the kernel's modules and firmware, also under /usr/lib (merged-usr.ts), where a
//   merged-/usr system looks (bdrv's /lib link hides zdrv's /lib).
// bdrv is stacked above the main SFS, so the paths the main SFS holds are
// left out of bdrv: the union shows exactly the tree mmdebstrap made.

import { chmodSync, copyFileSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { run } from "../sys/exec.js";
import type { Bundle } from "./bundle.js";
import type { Components } from "./components.js";
import { scratchDir } from "./components.js";
import type { DebianBase } from "./debian-base.js";
import { DEBIAN_CHANGED, DEBIAN_PATHS, DEBIAN_SCRIPTS } from "./debian-base.js";
import type { BuildInputs } from "./keys.js";
import { codeHash } from "./keys.js";
import type { Compression } from "./squashfs.js";
import { mksquashfsShowing } from "./squashfs.js";
import type { Progress } from "../lib/progress.js";
import { tinyRootfs } from "./trees.js";

/** What the tiny profile writes for its busybox userland, which Debian provides instead. */
const TINY_ONLY = new Set([
  "bin/busybox",
  "etc/inittab",
  "etc/rc.d/rc.sysinit",
  "etc/rc.d/rc.shutdown",
  "etc/profile",
  "etc/hostname",
  "etc/hosts",
  "etc/passwd",
  "etc/group",
  "etc/fstab",
]);

/** A path of the tiny tree as a merged-/usr system has it (bin/x is usr/bin/x). */
export function usrMerged(path: string): string {
  return path.replace(/^(bin|sbin|lib)(\/|$)/, "usr/$1$2");
}

/**
 * ramstack's own files as the tiny profile makes them (whatever runs the
 * command: its wrapper, its bundle, eventmanager, DISTRO_SPECS), less the
 * busybox userland: applet links, busybox itself and its configuration.
 */
export function copyRamstackFiles(tiny: string, root: string): void {
  const entries = readdirSync(tiny, { recursive: true, withFileTypes: true });
  for (const e of entries.sort((a, b) => join(a.parentPath, a.name).localeCompare(join(b.parentPath, b.name)))) {
    const from = join(e.parentPath, e.name);
    const rel = relative(tiny, from);
    if (TINY_ONLY.has(rel) || [...TINY_ONLY].some((p) => rel.startsWith(`${p}/`))) continue;
    const to = join(root, usrMerged(rel));
    if (e.isSymbolicLink()) {
      const target = readlinkSync(from);
      if (target.endsWith("bin/busybox")) continue;
      mkdirSync(dirname(to), { recursive: true });
      rmSync(to, { force: true });
      symlinkSync(target, to);
    } else if (e.isDirectory()) {
      mkdirSync(to, { recursive: true });
      chmodSync(to, lstatSync(from).mode & 0o7777);
    } else {
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, to);
      chmodSync(to, lstatSync(from).mode & 0o7777);
    }
  }
}

/** ramstack's paths in the Debian tree: its files, what its customize step changed, the links update-rc.d made for its scripts. */
export function ownedPaths(tree: string): string[] {
  const out = [...DEBIAN_PATHS, ...DEBIAN_CHANGED];
  const etc = join(tree, "etc");
  for (const d of readdirSync(etc).filter((n) => /^rc[0-6S]\.d$/.test(n)))
    for (const l of readdirSync(join(etc, d))) {
      const p = join(etc, d, l);
      if (lstatSync(p).isSymbolicLink() && DEBIAN_SCRIPTS.some((s) => readlinkSync(p) === `../init.d/${s}`))
        out.push(`etc/${d}/${l}`);
    }
  return out.sort();
}

/** bdrv: Debian's tree less ramstack's paths (hard links into the cache: mksquashfs only reads them). */
export function debianBdrvTree(root: string, base: DebianBase): void {
  run("cp", ["-al", `${base.dir}/.`, root]);
  for (const p of ownedPaths(base.dir)) rmSync(join(root, p), { force: true });
  chmodSync(root, 0o755);
}

/** The main SFS: ramstack's own files and its paths of the Debian tree. */
export function debianMainTree(root: string, base: DebianBase, c: Components, cli: Bundle, specs: string): void {
  const tiny = scratchDir("tiny-for-debian");
  try {
    tinyRootfs(tiny, c, cli, specs);
    copyRamstackFiles(tiny, root);
  } finally {
    rmSync(tiny, { recursive: true, force: true });
  }
  run("cp", ["-a", "--parents", ...ownedPaths(base.dir), root], { cwd: base.dir });
  // Where the init writes PUPSTATE and moves its mounts.
  for (const d of ["etc/rc.d", "initrd"]) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
  chmodSync(root, 0o755);
}

const sfsOpts = (i: BuildInputs): { compression: Compression; epoch: number } => ({
  compression: i.compression,
  epoch: i.epoch,
});

/** The main SFS of the debian profile: the command's bundle, the specs, the Debian integration. */
export function debianMainKey(i: BuildInputs, base: DebianBase): unknown {
  return {
    profile: i.profile,
    base: base.key,
    busybox: i.busybox,
    cli: i.cliBundle,
    jsEngine: i.jsEngine,
    runtime: i.runtime,
    specs: i.specs,
    sfsOpts: sfsOpts(i),
    tools: { mksquashfs: i.tools.mksquashfs },
    code: codeHash(["debian.js"]),
  };
}

export function debianBdrvKey(i: BuildInputs, base: DebianBase): unknown {
  return {
    base: base.key,
    sfsOpts: sfsOpts(i),
    tools: { mksquashfs: i.tools.mksquashfs },
    code: codeHash(["debian.js"]),
  };
}

/** zdrv for a merged-/usr system: the usual key, and the code that adds /usr/lib. */
export function debianZdrvKey(zdrvKey: unknown): unknown {
  return { zdrv: zdrvKey, usrMerged: codeHash(["merged-usr.js"]) };
}

/** An SFS from a tree filled in a scratch directory; keepOwners for Debian's own files. */
export async function debianSfs(
  name: string,
  fill: (tree: string) => void,
  out: string,
  i: BuildInputs,
  keepOwners: boolean,
  p: Progress,
): Promise<void> {
  const tree = scratchDir(name);
  try {
    fill(tree);
    await mksquashfsShowing(tree, out, { ...sfsOpts(i), keepOwners }, p);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}
