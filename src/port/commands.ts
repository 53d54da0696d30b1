// What both ports say and decide about the programs they run, in one place:
// how a command line is shown, how a failure reads, where the runtime's own
// tools are, and cryptsetup's arguments. No engine-specific code here.

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

/** Where the initrd's runtime is: /runtime in the init, /initrd/runtime once the system runs. */
export const RUNTIME_DIRS = ["/runtime", "/initrd/runtime"];

export interface Tool {
  cmd: string;
  /** The runtime's libraries for its tools (they are not the system's). */
  libraryPath?: string;
}

/** A program the runtime carries (e2fsck, cryptsetup, tar), or the PATH's own elsewhere. */
export function runtimeTool(name: string, exists: (path: string) => boolean): Tool {
  for (const dir of RUNTIME_DIRS) {
    const bundled = `${dir}/bin/${name}`;
    if (exists(bundled)) return { cmd: bundled, libraryPath: `${dir}/lib` };
  }
  return { cmd: name };
}

/** The /sys/module entry a loaded (or built-in) module has. */
export function moduleSysPath(name: string): string {
  return `/sys/module/${name
    .replace(/\.ko(\.\w+)?$/, "")
    .replace(/^.*\//, "")
    .replace(/-/g, "_")}`;
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
