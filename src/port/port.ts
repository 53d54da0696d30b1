// The port: everything the init (and, in time, the running-system tools) does
// to the machine, in one interface. The boot's logic runs against it: on
// Node.js (port/node.ts), in tests against a recording fake
// (port/recording.ts), and later on a small JavaScript engine. Paths are the
// machine's own; errors are thrown as Error with a message that names the
// call and the path.

import type { MountEntry } from "../plan/layout.js";

export type FileKind = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";

export interface FileStat {
  kind: FileKind;
  size: number;
  /** The filesystem's device number: the hand-over never deletes across a mount. */
  dev: number;
  mode: number;
  /** For char and block devices: an overlay whiteout is char 0:0. */
  rdevMajor: number;
  rdevMinor: number;
}

export interface MountSpec {
  fstype: string;
  source: string;
  target: string;
  /** mount(8)-style options: "loop" attaches the source file to a loop device first. */
  options?: string[];
}

export interface AskOptions {
  /** Do not echo what is typed (passwords). */
  silent?: boolean;
  /** The terminal to ask on; the console by default, /dev/tty for a command run in a terminal. */
  device?: string;
}

export interface CommandResult {
  status: number;
  output: string;
}

/** lstat with what a save copies: owner, links, inode and times to the nanosecond. */
export interface FullStat extends FileStat {
  uid: number;
  gid: number;
  ino: number;
  nlink: number;
  atimeNs: bigint;
  mtimeNs: bigint;
}

export interface DirEntry {
  name: string;
  kind: FileKind;
}

/** One file's extended attributes: its path relative to a tree (./a/b), name -> value as 0x hex. */
export interface XattrEntry {
  path: string;
  attrs: Map<string, string>;
}

export interface FsSpace {
  /** Bytes an unprivileged write can still use (statfs f_bavail * f_bsize). */
  available: number;
  /** Bytes in use ((f_blocks - f_bfree) * f_bsize). */
  used: number;
  /** Inodes in use (f_files - f_ffree). */
  usedInodes: number;
}

export interface ProgramResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface ProgramOptions {
  /** Do not throw on a non-zero exit: the caller looks at status. */
  allowFail?: boolean;
  /** Text on the program's stdin (a password: never an argument). */
  input?: string;
  /** Its output straight to this process's (a long install's own progress); stdout and stderr come back empty. */
  inherit?: boolean;
}

export interface Port {
  // --- files ---------------------------------------------------------------
  /** A file's text, or undefined when it cannot be read. */
  readText(path: string): string | undefined;
  /** Bytes at an offset (superblocks, a LUKS header); shorter at the end; undefined when unreadable. */
  readAt(path: string, offset: number, length: number): Uint8Array | undefined;
  writeText(path: string, text: string): void;
  appendText(path: string, text: string): void;
  /** mkdir -p. */
  mkdir(path: string): void;
  /** Names in a directory, sorted; [] when it cannot be read. */
  list(path: string): string[];
  /** lstat: a symlink is itself. null when the path does not exist. */
  lstat(path: string): FileStat | null;
  /** stat: through symlinks. */
  stat(path: string): FileStat | null;
  symlink(target: string, path: string): void;
  readlink(path: string): string | null;
  realpath(path: string): string;
  rename(from: string, to: string): void;
  /** rm -rf, on this path's filesystem only for directories; nothing when missing. */
  remove(path: string): void;
  /** rmdir: false when not empty or missing. */
  removeEmptyDir(path: string): boolean;
  /**
   * What DIR holds, deleted as switch_root deletes the initramfs: only what
   * is on DIR's own filesystem (a mount below stays, with its directory),
   * never the paths in KEEP; best effort. The number of entries left.
   */
  removeContents(dir: string, keep: readonly string[]): number;
  copyFile(from: string, to: string): void;
  /** cp -af FROM INTO/: modes, owners, times and links; -f replaces what cannot be written over. */
  copyTree(from: string, intoDir: string): void;
  /** Flush the filesystem that holds PATH (syncfs): what is renamed next must be on disk before. */
  syncFs(path: string): void;
  /** A character device (an overlay whiteout is 0:0). */
  mknodChar(path: string, major: number, minor: number): void;

  // --- mounts --------------------------------------------------------------
  mount(m: MountSpec): void;
  bind(source: string, target: string, readOnly: boolean): void;
  /** Move mounts in order (one process start where the port can). */
  move(moves: readonly (readonly [string, string])[]): void;
  /**
   * The last step of switch_root: the current directory's mount moved over
   * "/" (after the initramfs's files are gone: nothing but the port's own
   * means may be used).
   */
  moveCwdToRoot(): void;
  /** false when busy or not mounted. */
  umount(target: string, lazy?: boolean): boolean;
  mounts(): MountEntry[];

  // --- modules, tools --------------------------------------------------------
  /**
   * Load modules; names that do not resolve are not an error. Each is live
   * on return, one another process is loading included (it is waited for),
   * unless leaveLoading: coldplug's drivers, whose devices are polled for
   * anyway, are then left to the process loading them.
   */
  modprobe(names: readonly string[], o?: { leaveLoading?: boolean }): void;
  /** insmod: one module file, with no index and no dependencies (the two that mount the initrd's driver image); one already loaded is not an error. */
  insmod(file: string): void;
  /** The buses modules.alias's patterns name (pci, usb, …, as written), from the parsed index; null when this port has none. */
  moduleAliasBuses(): string[] | null;
  /** The bytes of module files modprobe would load for these names now (those not loaded yet); 0 when it cannot tell. */
  moduleLoadBytes(names: readonly string[]): number;
  /** Whether a module is in the kernel and live (loaded and started, or built in with a /sys/module entry). */
  moduleLoaded(name: string): boolean;
  /** e2fsck -p: 0 clean, 1-3 repaired, 4 and up not repaired. */
  fsck(target: string): CommandResult;
  /** Open a LUKS container as /dev/mapper/NAME; false when the password opens no key slot. */
  luksOpen(file: string, name: string, password: string): boolean;
  luksClose(name: string): void;
  /** A program the runtime carries (tar, …), or busybox's. */
  tool(name: string, args: readonly string[]): CommandResult;
  /** Load a gzipped busybox keymap into the console; the error text, or null. */
  loadKeymap(file: string): string | null;

  // --- processes -------------------------------------------------------------
  /** An interactive shell on the console; returns when it exits. */
  shell(): void;
  chdir(path: string): void;
  /** This process's root directory (the last steps of switch_root). */
  chroot(path: string): void;
  /** Replace this process; never returns. */
  execve(path: string, argv: readonly string[], env: Record<string, string>): never;

  // --- console and clock -----------------------------------------------------
  /** A line on the console; a console that cannot be written does not stop the boot. */
  say(line: string): void;
  /** A question with a time limit: the answer, or null when nobody answered in time. */
  ask(prompt: string, timeoutSec: number, o?: AskOptions): string | null;
  /** Wait without blocking the event loop. */
  sleep(ms: number): Promise<void>;
  /** Milliseconds since some fixed point, for durations. */
  now(): number;
  /** Seconds since this process started: what the runtime's own start took, seen from its first line. */
  processUptime(): number;
  /** The running kernel's release (uname -r). */
  kernelRelease(): string;

  // --- the saver's files -------------------------------------------------------
  /** lstat with owner, link count, inode and nanosecond times; null when the path does not exist. */
  lstatFull(path: string): FullStat | null;
  /** A directory's entries with their kinds (a symlink is itself), sorted by name; throws when unreadable. */
  readDir(path: string): DirEntry[];
  /** mkdir of one new directory: throws when it exists. */
  mkdirNew(path: string): void;
  /** Write a new file; false when the path exists already (O_CREAT|O_EXCL: a lock). */
  writeNew(path: string, text: string): boolean;
  /** link(2): a second name for a file. */
  link(existing: string, path: string): void;
  /** lchown(2): a symlink itself. */
  lchown(path: string, uid: number, gid: number): void;
  /** chmod(2): the permission bits (07777). */
  chmod(path: string, mode: number): void;
  /** utimensat(2) without following a symlink, to the nanosecond where the port can. */
  lutimes(path: string, atimeNs: bigint, mtimeNs: bigint): void;
  /** statfs(2) of the filesystem that holds PATH. */
  statfs(path: string): FsSpace;
  /** sync(2): every filesystem. */
  sync(): void;
  /** Write DATA at OFFSET of an existing file or disk, and flush it there (a partition table). */
  writeAt(path: string, offset: number, data: Uint8Array): void;
  /** Have the kernel read a disk's partition table again; false when it cannot (a partition in use). */
  rereadPartitions(disk: string): boolean;
  /** Grow the ext2/3/4 filesystem of DEVICE, mounted at MOUNTPOINT, to BYTES, online. */
  growExt(mountpoint: string, device: string, bytes: number): void;
  /** A new file of this size, its blocks reserved where the filesystem can (fallocate), else sparse (ftruncate). */
  allocate(path: string, bytes: number): void;
  /** Every extended attribute below DIR (symlinks not followed), paths relative to it (./a/b). */
  xattrs(dir: string): XattrEntry[];
  /** Set extended attributes below DIR (symlinks not followed); SCRATCH is a file the port may use on the way. */
  setXattrs(dir: string, entries: readonly XattrEntry[], scratch: string): void;

  // --- the saver's programs and processes -------------------------------------
  /** A program (mke2fs, …): a non-zero exit throws with the command line and what it printed, unless allowFail. */
  run(cmd: string, args: readonly string[], o?: ProgramOptions): ProgramResult;
  /** A program started and not waited for, its input and output on /dev/null; its process id. */
  start(cmd: string, args: readonly string[]): number;
  /** Format a file as LUKS2 (the password on a pipe only). */
  luksFormat(file: string, password: string): void;
  /** The current directory (relative paths on a command line are resolved from it). */
  cwd(): string;
  /** This process's id. */
  pid(): number;
  /** Whether a process exists (kill(pid, 0); one of another user's counts). */
  alive(pid: number): boolean;
  /** kill(2). */
  kill(pid: number, signal: "SIGKILL" | "SIGTERM"): void;
  /** An environment variable of this process. */
  env(name: string): string | undefined;
  /** A daemon's: the terminal that started it going away does not end it (SIGHUP ignored). */
  ignoreHangup(): void;
  /** Whether stdin is a terminal. */
  stdinIsTerminal(): boolean;
  /** All of stdin, as text. */
  readStdin(): string;
  /** A line on stderr (progress that must not mix with a command's output). */
  sayError(line: string): void;
  /** Text on stderr as it is (a progress bar redrawn in place). */
  writeError(text: string): void;
  /** Whether stderr is a terminal (a bar, not lines). */
  errorIsTerminal(): boolean;
}
