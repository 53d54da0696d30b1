// The real parts a system is built from: Debian's kernel and busybox, the
// JavaScript runtime (QuickJS with ramstack's native module, built here:
// quickjs.ts), and the programs the runtime carries with their C libraries.

import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { run } from "../sys/exec.js";
import type { Arch } from "./arch.js";
import { ARCH, debFor } from "./arch.js";
import { cacheDir, debDependency, extractDeb, fetchDeb, hostDebArch } from "./cache.js";
import { buildQuickjs, hostQuickjsArch, QUICKJS_VERSION } from "./quickjs.js";
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
  arch: Arch;
  kernel: Kernel;
  /** Unpacked busybox-static, and its applets (`--list`, `--list-full`). */
  busybox: { version: string; binary: string; applets: string[]; appletPaths: string[] };
  /** The static JavaScript runtime (ramstack-js) for the init and the running system's ramstack. */
  js: { version: string; binary: string };
  /** The same engine for this machine: it compiles the bundles (the bytecode is the same on every arch). */
  hostJs: string;
  /** Static programs the initrd's runtime carries beside the engine (e2fsck), name -> file. */
  initrdTools: Map<string, string>;
  /** The shared libraries the main SFS's runtime tools need, by soname, resolved to real files. */
  libs: Map<string, string>;
  /** Programs the main SFS's runtime carries (cryptsetup, tar), name -> file. */
  tools: Map<string, string>;
  firmware: { version: string; dir: string } | null;
  /** Firmware of the arch's boards beside the free one (arm64: the Raspberry Pis' Wi-Fi), a lib/firmware tree. */
  boardFirmware: { version: string; dir: string } | null;
}

/** What the main SFS's runtime tools link against (checked by the build test). */
const RUNTIME_LIBS = (arch: Arch): [pkg: string, soname: string][] => [
  ["libc6", ARCH[arch].loader],
  ["libc6", "libc.so.6"],
  ["libc6", "libm.so.6"],
  ["libc6", "libpthread.so.0"],
  ["libgcc-s1", "libgcc_s.so.1"],
  // cryptsetup's
  ["libblkid1", "libblkid.so.1"],
  ["libuuid1", "libuuid.so.1"],
  ["libcryptsetup12", "libcryptsetup.so.12"],
  ["libpopt0", "libpopt.so.0"],
  ["libdevmapper1.02.1", "libdevmapper.so.1.02.1"],
  ["libssl3", "libcrypto.so.3"],
  ["libargon2-1", "libargon2.so.1"],
  ["libjson-c5", "libjson-c.so.5"],
  ["libselinux1", "libselinux.so.1"],
  ["libudev1", "libudev.so.1"],
  ["libpcre2-8-0", "libpcre2-8.so.0"],
  // GNU tar's
  ["libacl1", "libacl.so.1"],
];

/**
 * In the initrd's driver image, static: e2fsck for pfix=fsck, fsckp and
 * unclean shutdowns, which must run before anything is mounted from the
 * partition it checks.
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

/** Where Debian puts a library for ARCH: the multiarch directories. */
const libDirs = (arch: Arch): string[] => [`lib/${ARCH[arch].triplet}`, `usr/lib/${ARCH[arch].triplet}`];

export function fetchKernel(arch: Arch, log: (s: string) => void): Kernel {
  const pkg = debDependency(debFor(ARCH[arch].kernelMeta, arch, hostDebArch()), "linux-image-");
  const deb = fetchDeb(pkg, log);
  const root = extractDeb(deb);
  const releases = readdirSync(join(root, "lib/modules"));
  if (releases.length !== 1) throw new Error(`${pkg} holds ${releases.length} module trees, expected one`);
  const release = releases[0]!;
  ensureDepmod(root, release);
  return { package: pkg, version: deb.version, release, root, vmlinuz: join(root, "boot", `vmlinuz-${release}`) };
}

/**
 * busybox-static for ARCH and its applet lists. busybox must run to list
 * them: another arch's binary is asked through this machine's busybox-static
 * of the same version, whose names must all be in the other's binary.
 */
function fetchBusybox(arch: Arch, log: (s: string) => void): Components["busybox"] {
  const host = hostDebArch();
  const bb = fetchDeb(debFor("busybox-static", arch, host), log);
  const binary = join(extractDeb(bb), "bin/busybox");
  let lister = binary;
  if (arch !== host) {
    const hostBb = fetchDeb("busybox-static", log);
    if (hostBb.version !== bb.version)
      throw new Error(
        `busybox-static is ${bb.version} for ${arch} but ${hostBb.version} here: its applets cannot be listed`,
      );
    lister = join(extractDeb(hostBb), "bin/busybox");
  }
  const list = (full: boolean): string[] =>
    run(lister, [full ? "--list-full" : "--list"])
      .stdout.split("\n")
      .filter(Boolean)
      .sort();
  const applets = list(false);
  if (lister !== binary) {
    // busybox keeps its applet names as one NUL-separated table: the same table means the same applets.
    if (!readFileSync(binary).includes(Buffer.from(applets.join("\0"))))
      throw new Error(`busybox-static for ${arch} has other applets than this machine's of the same version`);
  }
  return { version: bb.version, binary, applets, appletPaths: list(true) };
}

export function fetchComponents(arch: Arch, log: (s: string) => void): Components {
  const host = hostDebArch();
  const deb = (pkg: string): string => debFor(pkg, arch, host);
  const kernel = fetchKernel(arch, log);
  const busybox = fetchBusybox(arch, log);
  const js = { version: QUICKJS_VERSION, binary: buildQuickjs(ARCH[arch].quickjs, log) };
  const hostArch = hostQuickjsArch();
  if (!hostArch) throw new Error(`the JavaScript runtime cannot be built for this machine (${process.arch})`);
  const hostJs = hostArch === ARCH[arch].quickjs ? js.binary : buildQuickjs(hostArch, log);
  const libs = new Map<string, string>();
  for (const [pkg, soname] of RUNTIME_LIBS(arch)) {
    const root = extractDeb(fetchDeb(deb(pkg), log));
    const found = libDirs(arch)
      .map((d) => join(root, d, soname))
      .find((p) => existsSync(p));
    if (!found) throw new Error(`${soname} is not in Debian's ${pkg}`);
    libs.set(soname, realpathSync(found));
  }
  const programs = (list: typeof SYSTEM_TOOLS): Map<string, string> => {
    const found = new Map<string, string>();
    for (const [pkg, path, name] of list) {
      const file = join(extractDeb(fetchDeb(deb(pkg), log)), path);
      if (!existsSync(file)) throw new Error(`${path} is not in Debian's ${pkg}`);
      found.set(name, file);
    }
    return found;
  };
  const initrdTools = programs(INITRD_TOOLS);
  const tools = programs(SYSTEM_TOOLS);
  let firmware: Components["firmware"] = null;
  try {
    // Architecture: all, so never qualified.
    const fw = fetchDeb("firmware-linux-free", log);
    firmware = { version: fw.version, dir: join(extractDeb(fw), "lib/firmware") };
  } catch (e) {
    log(`no free firmware package: ${(e as Error).message}`);
  }
  const boardFirmware = arch === "arm64" ? piWifiFirmware(log) : null;
  return { arch, kernel, busybox, js, hostJs, initrdTools, libs, tools, firmware, boardFirmware };
}

/** The Raspberry Pis' Wi-Fi chips (43430: Pi 3 B, Zero 2 W; 43455: 3 B+, 4; 43456: 400, CM4), links kept. */
const PI_WIFI: [pkg: string, files: RegExp][] = [
  ["firmware-brcm80211", /^(brcm\/brcmfmac4343[06]\w*-sdio|brcm\/brcmfmac43455-sdio|cypress\/cyfmac434(30|55)-sdio)\./],
  ["raspi-firmware", /^brcm\//],
];

/**
 * The Pis' Wi-Fi firmware, from Debian's non-free-firmware area (as
 * raspi-firmware and firmware-brcm80211 install it), gathered once in the
 * cache as a lib/firmware tree.
 */
function piWifiFirmware(log: (s: string) => void): { version: string; dir: string } {
  const debs = PI_WIFI.map(([pkg]) => fetchDeb(pkg, log, "non-free-firmware"));
  const version = debs.map((d) => `${d.name} ${d.version}`).join(", ");
  const dir = join(
    cacheDir(),
    "pi-wifi",
    debs
      .map((d) => `${d.name}_${d.version}`)
      .join("+")
      .replace(/[^\w.+-]/g, "_"),
  );
  if (existsSync(join(dir, ".done"))) return { version, dir: join(dir, "lib/firmware") };
  rmSync(dir, { recursive: true, force: true });
  for (const [i, [, files]] of PI_WIFI.entries()) {
    const from = join(extractDeb(debs[i]!), "lib/firmware");
    for (const f of readdirSync(from, { recursive: true, encoding: "utf8" })
      .sort()
      .filter((f) => files.test(f))) {
      mkdirSync(dirname(join(dir, "lib/firmware", f)), { recursive: true });
      // cp -a: a link stays a link (brcmfmac43455-sdio.bin -> ../cypress/cyfmac43455-sdio.bin).
      run("cp", ["-a", join(from, f), join(dir, "lib/firmware", f)]);
    }
  }
  writeFileSync(join(dir, ".done"), "");
  return { version, dir: join(dir, "lib/firmware") };
}

/** The Raspberry Pis' device trees in the kernel package (arm64), by file name; none for other arches. */
export function piDeviceTrees(k: Kernel): Map<string, string> {
  const dir = join(k.root, "usr/lib", `linux-image-${k.release}`, "broadcom");
  if (!existsSync(dir)) return new Map();
  return new Map(
    readdirSync(dir)
      .filter((f) => /^bcm2\d{3}-rpi-.*\.dtb$/.test(f))
      .sort()
      .map((f) => [f, join(dir, f)]),
  );
}

/** A version string for each component: what a build's output depends on. */
export function componentVersions(c: Components): { kernel: string; busybox: string; js: string; firmware: string } {
  return {
    kernel: `${c.kernel.package} ${c.kernel.version}`,
    busybox: c.busybox.version,
    js: `QuickJS ${c.js.version}`,
    firmware: [c.firmware?.version ?? "none", ...(c.boardFirmware ? [c.boardFirmware.version] : [])].join(", "),
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
