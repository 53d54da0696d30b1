// What both ports say and decide about the programs they run, in one place:
// how a command line is shown, how a failure reads, where the runtime's own
// tools are, and cryptsetup's arguments. No engine-specific code here.

import { moduleName } from "./module-index.js";

/** A command as a shell would take it back: words quoted only when needed. */
export function commandLine(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join("\n");
}

/** The one failure format: "CMD failed (exit N): the last lines it printed". */
export function failureMessage(command: string, status: number, output: string): string {
  return `${command} failed (exit ${status})${output.trim() ? `: ${lastLines(output, 6)}` : ""}`;
}

/**
 * The initrd's init: the JavaScript engine itself, as /init (it runs this
 * bytecode when the kernel starts it as PID 1; native/ramstack_main.c).
 */
export const INIT_BYTECODE = "/ramstack/init.qbc";
/**
 * The main SFS's runtime: the engine the running system's ramstack runs on,
 * and cryptsetup and GNU tar with their own C library. The init reaches it
 * where it mounts the main SFS; the running system at the same path in /.
 */
export const SYSTEM_RUNTIME = "/usr/lib/ramstack/runtime";
/** The initrd's drivers: a squashfs image the init mounts here first (loop and squashfs, which mount it, are plain files). */
export const INITRD_MODULES_IMAGE = "/ramstack/modules.sfs";
export const INITRD_PLAIN_MODULES = "/ramstack/modules";
export const INITRD_MODULES_DIR = "/lib/modules";
/**
 * The init's static e2fsck, in the driver image beside the kernel's
 * release directory: read from the image only on the boots that check a
 * disk, not unpacked on every boot (it is the initrd's largest program).
 */
export const INITRD_IMAGE_RUNTIME = `${INITRD_MODULES_DIR}/ramstack-runtime`;
/** The modules the init's head start loads (the build's choice for the arch), a line of names. */
export const HEAD_START_FILE = "/ramstack/head-start";
/** Where the init mounts the main SFS (Puppy's name). */
export const MAIN_SFS_MOUNT = "/pup_ro2";
/** Where the runtime's programs are looked for, in order. */
export const RUNTIME_DIRS = [INITRD_IMAGE_RUNTIME, `${MAIN_SFS_MOUNT}${SYSTEM_RUNTIME}`, SYSTEM_RUNTIME];
/** The ELF loaders a runtime's lib/ may hold: x86_64's and arm64's. */
const LOADERS = ["ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"];

export interface Tool {
  /** What is started: the program, or its runtime's ELF loader. */
  cmd: string;
  /** Arguments before the program's own (the loader's). */
  args: string[];
  /** The program's path, for messages. */
  program: string;
}

/**
 * A program the runtime carries (e2fsck, cryptsetup, tar), or the PATH's own
 * elsewhere. A program with a C library beside it runs through that
 * library's own loader, so the system's C library (Debian's, or none) never
 * mixes with it.
 */
export function runtimeTool(name: string, exists: (path: string) => boolean): Tool {
  for (const dir of RUNTIME_DIRS) {
    const program = `${dir}/bin/${name}`;
    if (!exists(program)) continue;
    const loader = LOADERS.map((l) => `${dir}/lib/${l}`).find(exists);
    return loader
      ? { cmd: loader, args: ["--library-path", `${dir}/lib`, program], program }
      : { cmd: program, args: [], program };
  }
  return { cmd: name, args: [], program: name };
}

/** The /sys/module entry a loaded (or built-in) module has. */
export function moduleSysPath(name: string): string {
  return `/sys/module/${moduleName(name)}`;
}

/**
 * Whether a module is in the kernel and done starting: a module another
 * process is still loading has initstate "coming", and what it registers
 * (a filesystem, a charset vfat needs) may not be there yet. A built-in
 * module has no initstate.
 */
export function moduleIsLive(name: string, port: ModuleStatePort): boolean {
  return moduleState(name, port) === "live";
}

type ModuleStatePort = { stat(p: string): unknown; readText(p: string): string | undefined };

/** A module's state: absent, being loaded or unloaded (initstate coming or going), or live (built in too). */
export function moduleState(name: string, port: ModuleStatePort): "absent" | "loading" | "live" {
  const dir = moduleSysPath(name);
  if (port.stat(dir) === null) return "absent";
  const state = port.readText(`${dir}/initstate`);
  return state === undefined || state.trim() === "live" ? "live" : "loading";
}

/** The shell command that loads a gzipped busybox keymap: "$1" is the file. */
export const LOAD_KEYMAP_SCRIPT = 'busybox zcat "$1" | busybox loadkmap';

/**
 * LUKS2 with argon2id limited to 256 MiB of memory, so that a save made on a
 * large machine still opens on a small one (cryptsetup would take up to 1 GiB).
 * The password goes on stdin (--key-file -): never an argument.
 */
export const luksFormatArgs = (file: string): string[] => [
  "luksFormat",
  "--batch-mode",
  "--type",
  "luks2",
  "--pbkdf",
  "argon2id",
  "--pbkdf-memory",
  "262144",
  "--key-file",
  "-",
  file,
];
export const luksOpenArgs = (file: string, name: string): string[] => [
  "open",
  "--type",
  "luks",
  "--key-file",
  "-",
  file,
  name,
];
/** cryptsetup open's exit status when no key slot opened with the password. */
export const LUKS_WRONG_PASSWORD = 2;
/** cryptsetup keeps its locks here; without it, it warns on every call. */
export const CRYPTSETUP_LOCK_DIR = "/run/cryptsetup";
