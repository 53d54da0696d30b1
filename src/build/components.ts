// The real parts a system is built from: Debian's kernel and busybox, the
// JavaScript runtime (QuickJS with ramstack's native module, built here:
// quickjs.ts), and the programs the runtime carries with their C libraries.

import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { cacheDir, debDependency, extractDeb, fetchDeb } from "./cache.js";
import { buildQuickjs, QUICKJS_VERSION } from "./quickjs.js";
import { ensureDepmod } from "./modules.js";

export interface Kernel {
  /** The package, e.g. linux-image-6.1.0-50-amd64, and its version. */
  package: string;
  version: string;
  release: string;
  /** Unpacked package: boot/vmlinuz-RELEASE and lib/modules/RELEASE. */
  root: string;
  vmlinuz: string;
}

export interface Components {
  kernel: Kernel;
  /** Unpacked busybox-static. */
  busybox: { version: string; binary: string };
  /** The static JavaScript runtime (ramstack-js) for the init and the running system's ramstack. */
  js: { version: string; binary: string };
  /** Static programs the initrd's runtime carries beside the engine (e2fsck), name -> file. */
  initrdTools: Map<string, string>;
  /** The shared libraries the main SFS's runtime tools need, by soname, resolved to real files. */
  libs: Map<string, string>;
  /** Programs the main SFS's runtime carries (cryptsetup, tar), name -> file. */
  tools: Map<string, string>;
  firmware: { version: string; dir: string } | null;
}

/** What the main SFS's runtime tools link against, and where Debian puts each one (checked by the build test). */
const RUNTIME_LIBS: [pkg: string, soname: string, dirs: string[]][] = [
  ["libc6", "ld-linux-x86-64.so.2", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libc6", "libc.so.6", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libc6", "libm.so.6", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libc6", "libpthread.so.0", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libgcc-s1", "libgcc_s.so.1", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  // cryptsetup's
  ["libblkid1", "libblkid.so.1", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libuuid1", "libuuid.so.1", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libcryptsetup12", "libcryptsetup.so.12", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libpopt0", "libpopt.so.0", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libdevmapper1.02.1", "libdevmapper.so.1.02.1", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libssl3", "libcrypto.so.3", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libargon2-1", "libargon2.so.1", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libjson-c5", "libjson-c.so.5", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libselinux1", "libselinux.so.1", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libudev1", "libudev.so.1", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  ["libpcre2-8-0", "libpcre2-8.so.0", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
  // GNU tar's
  ["libacl1", "libacl.so.1", ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]],
];

/**
 * In the initrd, static: e2fsck for pfix=fsck, fsckp and unclean shutdowns,
 * which must run before anything is mounted from the partition it checks.
 */
const INITRD_TOOLS: [pkg: string, path: string, name: string][] = [["e2fsck-static", "sbin/e2fsck.static", "e2fsck"]];

/**
 * In the main SFS, with their C library: cryptsetup for LUKS saves (opened
 * by the init once the main SFS is mounted, made by the first save), GNU tar
 * for archive saves (PUPMODE 66), which must keep whiteouts and overlay's
 * xattrs. They cost the initrd nothing and the running system only page
 * cache. Extended attributes need no program: ramstack:sys has the calls.
 */
const SYSTEM_TOOLS: [pkg: string, path: string, name: string][] = [
  ["cryptsetup-bin", "sbin/cryptsetup", "cryptsetup"],
  ["tar", "bin/tar", "tar"],
];

export function fetchKernel(log: (s: string) => void): Kernel {
  const pkg = debDependency("linux-image-amd64", "linux-image-");
  const deb = fetchDeb(pkg, log);
  const root = extractDeb(deb);
  const releases = readdirSync(join(root, "lib/modules"));
  if (releases.length !== 1) throw new Error(`${pkg} holds ${releases.length} module trees, expected one`);
  const release = releases[0]!;
  ensureDepmod(root, release);
  return { package: pkg, version: deb.version, release, root, vmlinuz: join(root, "boot", `vmlinuz-${release}`) };
}

export function fetchComponents(log: (s: string) => void): Components {
  const kernel = fetchKernel(log);
  const bb = fetchDeb("busybox-static", log);
  const busybox = { version: bb.version, binary: join(extractDeb(bb), "bin/busybox") };
  const js = { version: QUICKJS_VERSION, binary: buildQuickjs("x86_64", log) };
  const libs = new Map<string, string>();
  for (const [pkg, soname, dirs] of RUNTIME_LIBS) {
    const root = extractDeb(fetchDeb(pkg, log));
    const found = dirs.map((d) => join(root, d, soname)).find((p) => existsSync(p));
    if (!found) throw new Error(`${soname} is not in Debian's ${pkg}`);
    libs.set(soname, realpathSync(found));
  }
  const programs = (list: typeof SYSTEM_TOOLS): Map<string, string> => {
    const found = new Map<string, string>();
    for (const [pkg, path, name] of list) {
      const file = join(extractDeb(fetchDeb(pkg, log)), path);
      if (!existsSync(file)) throw new Error(`${path} is not in Debian's ${pkg}`);
      found.set(name, file);
    }
    return found;
  };
  const initrdTools = programs(INITRD_TOOLS);
  const tools = programs(SYSTEM_TOOLS);
  let firmware: Components["firmware"] = null;
  try {
    const fw = fetchDeb("firmware-linux-free", log);
    firmware = { version: fw.version, dir: join(extractDeb(fw), "lib/firmware") };
  } catch (e) {
    log(`no free firmware package: ${(e as Error).message}`);
  }
  return { kernel, busybox, js, initrdTools, libs, tools, firmware };
}

/** A version string for each component: what a build's output depends on. */
export function componentVersions(c: Components): { kernel: string; busybox: string; js: string; firmware: string } {
  return {
    kernel: `${c.kernel.package} ${c.kernel.version}`,
    busybox: c.busybox.version,
    js: `QuickJS ${c.js.version}`,
    firmware: c.firmware?.version ?? "none",
  };
}

/** A fresh, empty working directory under the cache. */
export function scratchDir(name: string): string {
  const dir = join(cacheDir(), "work", `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function copyInto(src: string, dest: string, mode?: number): void {
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(src, dest);
  if (mode !== undefined) chmodSync(dest, mode);
}
