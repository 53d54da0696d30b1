// The small engine's modules, as far as the QuickJS port uses them: QuickJS's
// own std and os (2021-03-27), and ramstack's native module
// (native/ramstack_sys.c). Errors of ramstack:sys carry errno and code.

/** The script's arguments: [script, ...args]. */
declare const scriptArgs: string[];

declare module "std" {
  export interface FILE {
    puts(s: string): void;
    flush(): void;
    close(): number;
    readAsString(max?: number): string;
    error(): boolean;
  }
  export const out: FILE;
  export const err: FILE;
  export const In: FILE;
  export { In as in };
  export function open(path: string, mode: string, errorObj?: { errno?: number }): FILE | null;
  export function getenv(name: string): string | undefined;
  export function getenviron(): Record<string, string>;
  export function strerror(errno: number): string;
  export function exit(status: number): never;
}

declare module "os" {
  /** Negative errno on failure. */
  export function write(fd: number, buf: ArrayBuffer, offset: number, length: number): number;
  export function read(fd: number, buf: ArrayBuffer, offset: number, length: number): number;
  export function seek(fd: number, offset: number, whence: number): number;
  export function close(fd: number): number;
  /** A file descriptor, or a negative errno. */
  export function open(path: string, flags: number, mode?: number): number;
  export const O_RDWR: number;
  /** With block: false, the child's process id (not waited for). */
  export function exec(
    args: readonly string[],
    o?: { block?: boolean; usePath?: boolean; stdin?: number; stdout?: number; stderr?: number },
  ): number;
  export function isatty(fd: number): boolean;
  export function remove(path: string): number;
  export function rename(from: string, to: string): number;
  export function mkdir(path: string, mode?: number): number;
  export function readdir(path: string): [string[], number];
  export function readlink(path: string): [string, number];
  export function realpath(path: string): [string, number];
  export function symlink(target: string, path: string): number;
  export function getcwd(): [string, number];
  export function kill(pid: number, sig: number): number;
  export function signal(sig: number, handler: (() => void) | null | undefined): void;
  export function setTimeout(f: () => void, ms: number): unknown;
  export const SEEK_SET: number;
}

declare module "ramstack:sys" {
  export interface Stat {
    dev: number;
    ino: number;
    mode: number;
    nlink: number;
    uid: number;
    gid: number;
    size: number;
    atimeSec: number;
    atimeNsec: number;
    mtimeSec: number;
    mtimeNsec: number;
    rdevMajor: number;
    rdevMinor: number;
  }
  export interface SpawnResult {
    status: number;
    stdout: string;
    stderr: string;
  }
  export function spawn(
    argv: readonly string[],
    o?: { env?: Record<string, string>; cwd?: string; input?: string; inherit?: boolean },
  ): SpawnResult;
  export function getpid(): number;
  /** CLOCK_BOOTTIME seconds when the runtime started, and now. */
  export function startedAt(): number;
  export function uptime(): number;
  export function mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): void;
  export function umount2(target: string, flags: number): void;
  /** The device is the caller's to close: with autoclear, its last close (after the mount holds it) detaches it. */
  export function loopAttach(
    file: string,
    o?: { readOnly?: boolean; autoclear?: boolean; partScan?: boolean; offset?: number; sizeLimit?: number },
  ): { path: string; number: number; fd: number };
  export function execve(path: string, argv: readonly string[], env?: Record<string, string>): never;
  export function chdir(path: string): void;
  export function chroot(path: string): void;
  export function open(path: string, flags: number, mode?: number): number;
  export function close(fd: number): void;
  export function syncfs(fd: number): void;
  export function fsync(fd: number): void;
  export function sync(): void;
  export function ftruncate(fd: number, length: number): void;
  export function rereadPartitions(fd: number): void;
  export function ext4Resize(fd: number, blocks: number): void;
  export function fallocate(fd: number, mode: number, offset: number, length: number): void;
  export function link(existing: string, path: string): void;
  export function chmod(path: string, mode: number): void;
  export function lchown(path: string, uid: number, gid: number): void;
  export function utimensat(
    path: string,
    atimeSec: number,
    atimeNsec: number,
    mtimeSec: number,
    mtimeNsec: number,
    nofollow: boolean,
  ): void;
  export function stat(path: string): Stat;
  export function lstat(path: string): Stat;
  export function statfs(path: string): {
    bsize: number;
    bavail: number;
    blocks: number;
    bfree: number;
    files: number;
    ffree: number;
    flags: number;
  };
  /** Load a kernel module from its file; EEXIST once another process's load of it has finished. */
  export function finitModule(path: string, params?: string): void;
  /** The modules whose pattern in TEXT (a modules.alias) matches ALIAS (fnmatch, as modprobe), in the file's order. */
  export function aliasMatch(text: string, alias: string): string[];
  /** The buses TEXT's patterns name, each once; "*" for patterns with none or a wildcard there. */
  export function aliasBuses(text: string): string[];
  /** What DIR holds on its own filesystem, deleted but KEEP (and mounts below): the entries left. */
  export function removeContents(dir: string, keep: readonly string[]): number;
  export function mknod(path: string, mode: number, major: number, minor: number): void;
  export function lgetxattr(path: string, name: string): ArrayBuffer | null;
  export function lsetxattr(path: string, name: string, value: ArrayBuffer | Uint8Array, flags?: number): void;
  export function llistxattr(path: string): string[];
  /** The prompt is written once echo is off. */
  export function readLine(fd: number, timeoutMs: number, echo: boolean, prompt?: string): string | null;
  export function utf8Encode(s: string): ArrayBuffer;
  export const MS_MOVE: number;
  export const MS_RDONLY: number;
  export const MS_NOSUID: number;
  export const MS_NODEV: number;
  export const MS_NOEXEC: number;
  export const MS_SYNCHRONOUS: number;
  export const MS_REMOUNT: number;
  export const MS_DIRSYNC: number;
  export const MS_NOATIME: number;
  export const MS_NODIRATIME: number;
  export const MS_BIND: number;
  export const MS_REC: number;
  export const MS_RELATIME: number;
  export const MS_STRICTATIME: number;
  export const MS_LAZYTIME: number;
  export const MS_SILENT: number;
  export const MNT_DETACH: number;
  export const O_RDONLY: number;
  export const O_WRONLY: number;
  export const O_RDWR: number;
  export const O_CREAT: number;
  export const O_EXCL: number;
  export const O_TRUNC: number;
  export const O_NOCTTY: number;
  export const O_CLOEXEC: number;
  export const O_DIRECTORY: number;
  export const S_IFMT: number;
  export const S_IFSOCK: number;
  export const S_IFLNK: number;
  export const S_IFREG: number;
  export const S_IFBLK: number;
  export const S_IFDIR: number;
  export const S_IFCHR: number;
  export const S_IFIFO: number;
}
