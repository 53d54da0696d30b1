// The JavaScript runtime for the initrd: Bellard's QuickJS 2021-03-27 (from
// the npm package qjsc@0.3.0, which ships its source) with ramstack's native
// module (native/ramstack_sys.c) and entry (native/ramstack_main.c), linked
// statically and stripped, for x86_64 or arm64.
//
// Built once per input: the cache key covers the verified QuickJS sources,
// the native C files, the compiler, its flags, the arch and the libc, so
// editing the C module rebuilds and nothing else does.
//
// musl by default: the same program is 1.0 MB against 2.1 MB with static
// glibc (440 KB against 780 KB with xz), glibc's static libc drags in
// locale, iconv and NSS code that nothing here uses, and musl is what
// Debian offers for both arches (musl-dev, musl-dev:arm64).

import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { arch as hostArch } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { have, run } from "../sys/exec.js";
import { INIT_BYTECODE } from "../port/commands.js";
import { INITRD_END, INITRD_RAM_MIB } from "./cpio.js";
import { sha256 } from "../sys/hash.js";
import { cacheDir, fetchNpm } from "./cache.js";

export type QuickjsArch = "x86_64" | "arm64";
export type QuickjsLibc = "musl" | "glibc";

export interface QuickjsOptions {
  libc?: QuickjsLibc;
}

/** The npm package that carries QuickJS's source, pinned: the checksums below are its files. */
export const QUICKJS_NPM = "qjsc@0.3.0";
const QUICKJS_DIR = "deps/quickjs_2021_03_27";
export const QUICKJS_VERSION = "2021-03-27";

/**
 * SHA-256 of every QuickJS file the build reads (the .c files compiled and
 * the headers they include). A different byte anywhere stops the build: an
 * npm package can be republished under a new version only, but a mirror or a
 * cache can still serve something else.
 */
export const QUICKJS_SOURCES: Readonly<Record<string, string>> = {
  VERSION: "6b600e98fef8541a1a0d3fcad07fcf44067efbfc1ea58a2eae2fb02f62061cfd",
  LICENSE: "f41baf09eef895d468d18c23055d74f711e4b8b2641cef279b5d71285c07bfe8",
  "cutils.c": "82a2cf31e18fb5d080e0ef146886af46a336bd523fb5ad01e4187c687008ebf2",
  "cutils.h": "af54a154072c55c69e730788b2351ca779dd9725f2105d230ea441040a5e0752",
  "libbf.c": "5caffbf754eb6a7a96e9fca6c185478b751bbb679a597d3d34eaa6e507f51af2",
  "libbf.h": "c2fe44fbcab3660a661d933e1791d42704366a688e9281db72de4be487aa588a",
  "libregexp-opcode.h": "ef2e192734aacbe67bb15b7856239368054e19558f636a93cca51ad128b63ba3",
  "libregexp.c": "f167039cfef4b6d830bdd000e01ab0e030b89098ae13d3ef31b633163594ae27",
  "libregexp.h": "bcf851a670715db2450588ae8e8f7d7c453583ed29195208cb391239fe5d5bf6",
  "libunicode-table.h": "a990fbe88ed90ff8a141dfc29a8afb8951549130129f0559d67082cca47e0144",
  "libunicode.c": "7fe7d1b375946fc7f9684f7b7f42b2088098ce62533ba5ce9470f0070a70ac15",
  "libunicode.h": "3158cc84164e43ad3e24d04436060c77c8cf66dcce88bb86429522b651cbc7c5",
  "list.h": "d275d4830a019944bff3f08747b12f16bc932630cff34f147a7b59b68f952f5f",
  "quickjs-atom.h": "491139f5f2eaf40d146a588429c2bb884ffd4b5d0ad829e7b32d4a6fcce80509",
  "quickjs-libc.c": "0fc0cf517419cc68fad619ed8f1ea8b863e2b11c355b27c6a5f968eb73eba212",
  "quickjs-libc.h": "4710ad9a360554279574461e26032faf3f0382db9eb6a5843f6c83c1560c139d",
  "quickjs-opcode.h": "ef37e98009fd84f1f0e3acea8d5a8acded9da3d657a48b2cfbc690d50f543ca5",
  "quickjs.c": "b3574a58f159bf5fc2ceaf9153ffb2181a20408dcd66701114342805298cbaf4",
  "quickjs.h": "2533d8c684cee8404e9e7df79139e3b80e2cfebc81419b40452b975db5ea7c7f",
};

const QUICKJS_OBJECTS = ["quickjs", "libregexp", "libunicode", "cutils", "quickjs-libc", "libbf"];
const NATIVE_OBJECTS = ["ramstack_sys", "ramstack_main"];

/**
 * Upstream's gcc flags without LTO (-flto made the build twice as slow for a
 * few percent) and without -g (the binary is stripped anyway). CONFIG_BIGNUM
 * keeps BigInt, which the language has had since ES2020 and bundles may use.
 */
export const QUICKJS_CFLAGS: readonly string[] = [
  "-O2",
  "-D_GNU_SOURCE",
  `-DCONFIG_VERSION="${QUICKJS_VERSION}"`,
  "-DCONFIG_BIGNUM",
  "-Wall",
  "-Wno-array-bounds",
  "-Wno-format-truncation",
];
/**
 * The native files are ours: stricter warnings (the header's own cast
 * warning aside), and what /init needs to know of the initrd it is in.
 */
export const NATIVE_CFLAGS: readonly string[] = [
  "-Wextra",
  "-Wno-unused-parameter",
  "-Wno-cast-function-type",
  `-DRAMSTACK_INIT_BYTECODE="${INIT_BYTECODE}"`,
  `-DRAMSTACK_INITRD_END="/${INITRD_END}"`,
  `-DRAMSTACK_INITRD_RAM_MIB=${INITRD_RAM_MIB}`,
];
export const QUICKJS_LDFLAGS: readonly string[] = ["-static"];
const QUICKJS_LIBS = ["-lm", "-lpthread"];

/** The file name of the runtime in its cache directory. */
export const QUICKJS_BINARY = "ramstack-js";

/** Where the native C files are: native/ at the repository root (this file runs from dist/src/build). */
export function nativeDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["../..", "../../.."]) {
    const d = resolve(here, up, "native");
    if (existsSync(join(d, "ramstack_sys.c"))) return d;
  }
  throw new Error(`native/ramstack_sys.c not found above ${here}`);
}

const GNU_TRIPLET: Record<QuickjsArch, string> = { x86_64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu" };
const MUSL_TRIPLET: Record<QuickjsArch, string> = { x86_64: "x86_64-linux-musl", arm64: "aarch64-linux-musl" };
const DEB_ARCH: Record<QuickjsArch, string> = { x86_64: "amd64", arm64: "arm64" };

export function hostQuickjsArch(): QuickjsArch | null {
  const a = hostArch();
  return a === "x64" ? "x86_64" : a === "arm64" ? "arm64" : null;
}

/** How to compile for an arch and libc on this machine, and what Debian packages give it. */
interface Toolchain {
  cc: string[];
  strip: string;
  /** Kernel headers (linux/, asm/, asm-generic/): musl's include directory has none. */
  kernelHeaders: string | null;
  /** The static libc linked in: part of the cache key. */
  libcA: string;
  /** A command on the PATH or an absolute file that must exist -> the Debian package that provides it. */
  needs: [string, string][];
}

function toolchain(arch: QuickjsArch, libc: QuickjsLibc): Toolchain {
  const native = hostQuickjsArch() === arch;
  const prefix = native ? "" : `${GNU_TRIPLET[arch]}-`;
  const gccPkg = native ? "gcc" : `gcc-${GNU_TRIPLET[arch].replace(/_/g, "-")}`;
  const binutilsPkg = native ? "binutils" : `binutils-${GNU_TRIPLET[arch].replace(/_/g, "-")}`;
  const needs: [string, string][] = [
    ["make", "make"],
    [`${prefix}gcc`, gccPkg],
    [`${prefix}strip`, binutilsPkg],
  ];
  const includeRoot = native ? "/usr/include" : `/usr/${GNU_TRIPLET[arch]}/include`;
  const asmDir = native ? `/usr/include/${GNU_TRIPLET[arch]}/asm` : `${includeRoot}/asm`;
  const headersPkg = native ? "linux-libc-dev" : `linux-libc-dev-${DEB_ARCH[arch]}-cross`;
  needs.push([`${includeRoot}/linux/loop.h`, headersPkg], [asmDir, headersPkg]);
  if (libc === "musl") {
    const specs = `/usr/lib/${MUSL_TRIPLET[arch]}/musl-gcc.specs`;
    // The musl of a foreign arch is a multiarch package (dpkg --add-architecture).
    const libcA = `/usr/lib/${MUSL_TRIPLET[arch]}/libc.a`;
    needs.push(
      [specs, native ? "musl-dev" : `musl-dev:${DEB_ARCH[arch]}`],
      [libcA, native ? "musl-dev" : `musl-dev:${DEB_ARCH[arch]}`],
    );
    return { cc: [`${prefix}gcc`, "-specs", specs], strip: `${prefix}strip`, kernelHeaders: includeRoot, libcA, needs };
  }
  const libcA = native ? `/usr/lib/${GNU_TRIPLET[arch]}/libc.a` : `/usr/${GNU_TRIPLET[arch]}/lib/libc.a`;
  needs.push([libcA, native ? "libc6-dev" : `libc6-dev-${DEB_ARCH[arch]}-cross`]);
  return { cc: [`${prefix}gcc`], strip: `${prefix}strip`, kernelHeaders: null, libcA, needs };
}

/**
 * The Debian packages missing on this machine to build the runtime for ARCH
 * (empty when it can be built). A foreign arch's musl-dev needs
 * `dpkg --add-architecture <arch>` and `apt-get update` first.
 */
export function quickjsMissingPackages(arch: QuickjsArch, opts: QuickjsOptions = {}): string[] {
  const tc = toolchain(arch, opts.libc ?? "musl");
  const present = (what: string): boolean => (what.startsWith("/") ? existsSync(what) : have(what));
  return [...new Set(tc.needs.filter(([what]) => !present(what)).map(([, pkg]) => pkg))];
}

/** Checks the QuickJS sources in DIR against the pinned checksums; throws naming each file that differs. */
export function verifyQuickjsSources(dir: string): void {
  const bad: string[] = [];
  for (const [name, want] of Object.entries(QUICKJS_SOURCES)) {
    let got: string;
    try {
      got = sha256(readFileSync(join(dir, name)));
    } catch {
      bad.push(`${name}: missing`);
      continue;
    }
    if (got !== want) bad.push(`${name}: SHA-256 ${got}, expected ${want}`);
  }
  if (bad.length > 0) {
    throw new Error(`QuickJS sources in ${dir} (from ${QUICKJS_NPM}) are not the pinned ones:\n  ${bad.join("\n  ")}`);
  }
}

export interface QuickjsKeyInputs {
  arch: QuickjsArch;
  libc: QuickjsLibc;
  /** The compiler's identity (its --version line): another gcc, another binary. */
  compiler: string;
  /** SHA-256 of the static libc linked in. */
  libcDigest: string;
  /** Name -> content of the native C files. */
  native: Readonly<Record<string, string>>;
}

/** The cache key: everything that goes into the binary. */
export function quickjsBuildKey(inputs: QuickjsKeyInputs): string {
  return sha256(
    JSON.stringify({
      layout: 1,
      quickjs: QUICKJS_SOURCES,
      native: Object.fromEntries(
        Object.entries(inputs.native)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => [k, sha256(v)]),
      ),
      cflags: QUICKJS_CFLAGS,
      nativeCflags: NATIVE_CFLAGS,
      ldflags: QUICKJS_LDFLAGS,
      libs: QUICKJS_LIBS,
      arch: inputs.arch,
      libc: inputs.libc,
      compiler: inputs.compiler,
      libcDigest: inputs.libcDigest,
    }),
  ).slice(0, 24);
}

/**
 * Make can rebuild the two objects in parallel and knows what to redo;
 * sources are named relative to the build directory so that the paths
 * compiled into assert() messages do not depend on where the cache is.
 */
function makefile(tc: Toolchain): string {
  const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
  const objs = [...QUICKJS_OBJECTS, ...NATIVE_OBJECTS].map((o) => `obj/${o}.o`);
  const inc = ["-Iquickjs", ...(tc.kernelHeaders ? ["-isystem", "kernel-headers"] : [])];
  return [
    `CC = ${tc.cc.map(q).join(" ")}`,
    `CFLAGS = ${[...QUICKJS_CFLAGS, ...inc].map(q).join(" ")}`,
    `NATIVE_CFLAGS = ${NATIVE_CFLAGS.map(q).join(" ")}`,
    "",
    `${QUICKJS_BINARY}.debug: ${objs.join(" ")}`,
    `\t$(CC) ${QUICKJS_LDFLAGS.join(" ")} -o $@ $^ ${QUICKJS_LIBS.join(" ")}`,
    "",
    "obj/%.o: quickjs/%.c",
    "\t@mkdir -p obj",
    "\t$(CC) $(CFLAGS) -c -o $@ $<",
    "",
    "obj/%.o: native/%.c",
    "\t@mkdir -p obj",
    "\t$(CC) $(CFLAGS) $(NATIVE_CFLAGS) -c -o $@ $<",
    "",
  ].join("\n");
}

/** Facts read from an ELF header: enough to tell a static executable for the right machine. */
export interface ElfInfo {
  class: 32 | 64;
  machine: "x86_64" | "arm64" | `other(${number})`;
  type: "exec" | "dyn" | `other(${number})`;
  /** Has a PT_INTERP program header: needs a dynamic loader. */
  interpreter: boolean;
}

export function readElf(path: string): ElfInfo {
  const fd = openSync(path, "r");
  try {
    const h = Buffer.alloc(64);
    readSync(fd, h, 0, 64, 0);
    if (h.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF file`);
    if (h[4] !== 2 || h[5] !== 1) throw new Error(`${path} is not a 64-bit little-endian ELF file`);
    const type = h.readUInt16LE(16);
    const machine = h.readUInt16LE(18);
    const phoff = Number(h.readBigUInt64LE(32));
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    let interpreter = false;
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3) interpreter = true; // PT_INTERP
    return {
      class: 64,
      machine: machine === 62 ? "x86_64" : machine === 183 ? "arm64" : `other(${machine})`,
      type: type === 2 ? "exec" : type === 3 ? "dyn" : `other(${type})`,
      interpreter,
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * The runtime for ARCH: a static, stripped executable that runs an ES module
 * with std, os and ramstack:sys (`ramstack-js script.js args...`). Builds it
 * (about 40 s on 2 cores) unless the cache has it for the same inputs.
 * Throws, naming the Debian packages, when the toolchain is missing; this
 * function installs nothing.
 */
export function buildQuickjs(
  arch: QuickjsArch,
  log: (s: string) => void = () => {},
  opts: QuickjsOptions = {},
): string {
  const libc = opts.libc ?? "musl";
  const missing = quickjsMissingPackages(arch, { libc });
  if (missing.length > 0) {
    const multiarch = missing.some((p) => p.includes(":"))
      ? ` (for ${missing.filter((p) => p.includes(":")).join(", ")}: dpkg --add-architecture ${DEB_ARCH[arch]} && apt-get update first)`
      : "";
    throw new Error(
      `building the QuickJS runtime for ${arch} with ${libc} needs these Debian packages: ${missing.join(" ")}${multiarch}`,
    );
  }
  const tc = toolchain(arch, libc);
  const ndir = nativeDir();
  const native: Record<string, string> = {};
  for (const o of NATIVE_OBJECTS) native[`${o}.c`] = readFileSync(join(ndir, `${o}.c`), "utf8");
  const compiler = run(tc.cc[0]!, ["--version"]).stdout.split("\n")[0]!.trim();
  const key = quickjsBuildKey({ arch, libc, compiler, libcDigest: sha256(readFileSync(tc.libcA)), native });
  const root = join(cacheDir(), "quickjs");
  const dir = join(root, key);
  const binary = join(dir, QUICKJS_BINARY);
  if (existsSync(join(dir, ".done"))) return binary;

  const { dir: pkg } = fetchNpm(QUICKJS_NPM, log);
  const srcDir = join(pkg, "pkg", QUICKJS_DIR);
  verifyQuickjsSources(srcDir);

  log(`building QuickJS ${QUICKJS_VERSION} + ramstack:sys for ${arch} (${libc}, static)`);
  const started = Date.now();
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "quickjs"), { recursive: true });
  mkdirSync(join(tmp, "native"), { recursive: true });
  // Copies, checked again: the bytes compiled are the bytes verified.
  for (const name of Object.keys(QUICKJS_SOURCES))
    writeFileSync(join(tmp, "quickjs", name), readFileSync(join(srcDir, name)));
  verifyQuickjsSources(join(tmp, "quickjs"));
  for (const [name, text] of Object.entries(native)) writeFileSync(join(tmp, "native", name), text);
  if (tc.kernelHeaders) {
    // musl's headers with the kernel's uapi headers, and nothing of glibc's.
    const kh = join(tmp, "kernel-headers");
    mkdirSync(kh);
    const onHost = hostQuickjsArch() === arch;
    symlinkSync(join(tc.kernelHeaders, "linux"), join(kh, "linux"));
    symlinkSync(join(tc.kernelHeaders, "asm-generic"), join(kh, "asm-generic"));
    symlinkSync(onHost ? `/usr/include/${GNU_TRIPLET[arch]}/asm` : join(tc.kernelHeaders, "asm"), join(kh, "asm"));
  }
  writeFileSync(join(tmp, "Makefile"), makefile(tc));
  // -j2: the machines this builds on are small and shared.
  run("make", ["-j2", "--no-print-directory"], { cwd: tmp, env: { ...process.env, LC_ALL: "C" } });
  run(tc.strip, ["-o", QUICKJS_BINARY, `${QUICKJS_BINARY}.debug`], { cwd: tmp });
  rmSync(join(tmp, "obj"), { recursive: true, force: true });

  const elf = readElf(join(tmp, QUICKJS_BINARY));
  if (elf.machine !== arch || elf.interpreter) {
    throw new Error(
      `the QuickJS build for ${arch} gave a ${elf.machine} ${elf.interpreter ? "dynamically linked" : "static"} binary`,
    );
  }
  writeFileSync(join(tmp, ".done"), `${new Date().toISOString()} ${Date.now() - started} ms\n`);
  try {
    renameSync(tmp, dir);
  } catch (e) {
    // Another build of the same key finished first: its result is as good.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, ".done"))) throw e;
  }
  log(`QuickJS runtime for ${arch}: ${binary} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return binary;
}
