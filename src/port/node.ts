// The port on Node.js: node:fs for files, and sys/exec (the one place that
// runs subprocesses) for mount, modprobe, cryptsetup and the rest. A failed
// command throws an error that names it, with its exit status and output.

import {
  appendFileSync,
  copyFileSync,
  lstatSync,
  unlinkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import type { Stats } from "node:fs";
import {
  chmodSync,
  closeSync,
  fsyncSync,
  ftruncateSync,
  lchownSync,
  linkSync,
  lutimesSync,
  openSync,
  readSync,
  statfsSync,
} from "node:fs";
import { release } from "node:os";
import type { MountEntry } from "../plan/layout.js";
import { parseMounts } from "../plan/layout.js";
import { askOnConsole } from "../sys/console.js";
import { commandLine, run, runAll, start } from "../sys/exec.js";
import { luksClose, luksFormat, luksOpen } from "../sys/luks.js";
import { runtimeTool } from "../sys/runtime.js";
import { LOAD_KEYMAP_SCRIPT, moduleIsLive } from "./commands.js";
import { dumpXattrs, restoreXattrs } from "./node-xattrs.js";
import { removeContentsByWalk } from "./remove-contents.js";
import type {
  AskOptions,
  CommandResult,
  DirEntry,
  FileKind,
  FileStat,
  FsSpace,
  FullStat,
  MountSpec,
  Port,
  ProgramOptions,
  ProgramResult,
  XattrEntry,
} from "./port.js";

/** What kind of file Node's Stats describe (the recording fake uses it too). */
export function kindOf(
  st: Pick<Stats, "isSymbolicLink" | "isDirectory" | "isCharacterDevice" | "isBlockDevice" | "isFIFO" | "isSocket">,
): FileKind {
  if (st.isSymbolicLink()) return "symlink";
  if (st.isDirectory()) return "dir";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  if (st.isFIFO()) return "fifo";
  if (st.isSocket()) return "socket";
  return "file";
}

function toStat(st: Stats): FileStat {
  return {
    kind: kindOf(st),
    size: st.size,
    dev: st.dev,
    mode: st.mode,
    rdevMajor: Math.floor(st.rdev / 256) & 0xfff,
    rdevMinor: st.rdev & 0xff,
  };
}

/** Run a command; a failure throws with the command (as `shown`), its status and what it printed. */
function must(cmd: string, args: readonly string[], shown = commandLine(cmd, args)): CommandResult {
  const r = run(cmd, args, { allowFail: true });
  const output = (r.stdout + r.stderr).trim();
  if (r.status !== 0) throw new Error(`${shown} failed (exit ${r.status})${output ? `: ${output}` : ""}`);
  return { status: 0, output };
}

export class NodePort implements Port {
  readText(path: string): string | undefined {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  }

  readAt(path: string, offset: number, length: number): Uint8Array | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(path, "r");
      const buf = Buffer.alloc(length);
      let n = 0;
      while (n < length) {
        const got = readSync(fd, buf, n, length - n, offset + n);
        if (got === 0) break;
        n += got;
      }
      return buf.subarray(0, n);
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  writeText(path: string, text: string): void {
    writeFileSync(path, text);
  }

  appendText(path: string, text: string): void {
    appendFileSync(path, text);
  }

  mkdir(path: string): void {
    mkdirSync(path, { recursive: true });
  }

  list(path: string): string[] {
    try {
      return readdirSync(path).sort();
    } catch {
      return [];
    }
  }

  lstat(path: string): FileStat | null {
    try {
      return toStat(lstatSync(path));
    } catch {
      return null;
    }
  }

  stat(path: string): FileStat | null {
    try {
      return toStat(statSync(path));
    } catch {
      return null;
    }
  }

  symlink(target: string, path: string): void {
    symlinkSync(target, path);
  }

  readlink(path: string): string | null {
    try {
      return readlinkSync(path);
    } catch {
      return null;
    }
  }

  realpath(path: string): string {
    return realpathSync(path);
  }

  rename(from: string, to: string): void {
    renameSync(from, to);
  }

  remove(path: string): void {
    // A file, symlink or empty directory at once: fs.rmSync's general machinery is slow to start on an emulated CPU.
    let dir: boolean;
    try {
      dir = lstatSync(path).isDirectory();
    } catch {
      return;
    }
    if (!dir) return unlinkSync(path);
    try {
      rmdirSync(path);
    } catch {
      rmSync(path, { recursive: true, force: true });
    }
  }

  removeEmptyDir(path: string): boolean {
    try {
      rmdirSync(path);
      return true;
    } catch {
      return false;
    }
  }

  removeContents(dir: string, keep: readonly string[]): number {
    return removeContentsByWalk(this, dir, keep);
  }

  copyFile(from: string, to: string): void {
    // No process start: a copy into a tmpfs that runs out of room fails with ENOSPC all the same.
    copyFileSync(from, to);
  }

  copyTree(from: string, intoDir: string): void {
    must("cp", ["-af", from, intoDir]);
  }

  syncFs(path: string): void {
    run("sync", ["-f", path], { allowFail: true });
  }

  mknodChar(path: string, major: number, minor: number): void {
    must("mknod", [path, "c", String(major), String(minor)]);
  }

  mount(m: MountSpec): void {
    const opts = m.options?.length ? ["-o", m.options.join(",")] : [];
    must("mount", ["-t", m.fstype, ...opts, m.source, m.target]);
  }

  bind(source: string, target: string, readOnly: boolean): void {
    // A bind takes the source's flags; read-only needs a remount of the bind (both in one shell).
    const cmds = [
      ["mount", "-o", "bind", source, target],
      ...(readOnly ? [["mount", "-o", "remount,bind,ro", target]] : []),
    ];
    this.runAll(cmds);
  }

  move(moves: readonly (readonly [string, string])[]): void {
    if (moves.length) this.runAll(moves.map(([source, target]) => ["mount", "-o", "move", source, target]));
  }

  private runAll(commands: string[][]): void {
    if (commands.length === 1) {
      must(commands[0]![0]!, commands[0]!.slice(1));
      return;
    }
    const r = runAll(commands);
    if (r.failed === null) return;
    throw new Error(`${commands[r.failed]!.join(" ")} failed (exit ${r.status})${r.output ? `: ${r.output}` : ""}`);
  }

  moveCwdToRoot(): void {
    // busybox itself: mount's link and sh are gone with the rest of the initramfs.
    must(BUSYBOX, ["mount", "-o", "move", ".", "/"]);
  }

  umount(target: string, lazy = false): boolean {
    return run("umount", [...(lazy ? ["-l"] : []), target], { allowFail: true }).status === 0;
  }

  mounts(): MountEntry[] {
    // Once /proc has moved into the new root there is nothing left to read.
    return parseMounts(this.readText("/proc/mounts") ?? "");
  }

  moduleAliasBuses(): string[] | null {
    return null;
  }

  moduleLoadBytes(): number {
    return 0;
  }

  modprobe(names: readonly string[]): void {
    if (names.length) run("modprobe", ["-a", "-q", ...names], { allowFail: true });
  }

  insmod(file: string): void {
    run("insmod", [file], { allowFail: true });
  }

  moduleLoaded(name: string): boolean {
    return moduleIsLive(name, this);
  }

  fsck(target: string): CommandResult {
    const t = runtimeTool("e2fsck");
    const r = run(t.cmd, [...t.args, "-p", target], { allowFail: true });
    return { status: r.status, output: (r.stdout + r.stderr).trim() };
  }

  luksOpen(file: string, name: string, password: string): boolean {
    return luksOpen(file, name, password);
  }

  luksClose(name: string): void {
    luksClose(name);
  }

  tool(name: string, args: readonly string[]): CommandResult {
    const t = runtimeTool(name);
    // Named as the program, not its loader.
    return must(t.cmd, [...t.args, ...args], commandLine(t.program, args));
  }

  loadKeymap(file: string): string | null {
    const r = run("sh", ["-c", LOAD_KEYMAP_SCRIPT, "sh", file], { allowFail: true });
    return r.status === 0 ? null : (r.stdout + r.stderr).trim() || "loadkmap failed";
  }

  shell(): void {
    run(BUSYBOX, ["sh"], { inherit: true, allowFail: true });
  }

  chdir(path: string): void {
    process.chdir(path);
  }

  chroot(): void {
    // Node.js has no chroot(2); the init runs on the QuickJS port.
    throw new Error("chroot is not available on Node.js");
  }

  execve(path: string, argv: readonly string[], env: Record<string, string>): never {
    const execve = (
      process as unknown as { execve?: (file: string, args: string[], env: Record<string, string>) => never }
    ).execve;
    if (!execve) throw new Error("this Node.js has no process.execve (Node >= 22.15 is needed)");
    execve(path, [...argv], env);
    throw new Error("process.execve returned");
  }

  /**
   * Straight to fd 1, the console: process.stdout would first build a tty
   * stream (net, stream and tty modules), a tenth of a second of an emulated
   * boot.
   */
  say(line: string): void {
    try {
      writeSync(1, line + "\n");
    } catch {
      // The log file has it.
    }
  }

  ask(prompt: string, timeoutSec: number, o: AskOptions = {}): string | null {
    return askOnConsole(prompt, timeoutSec, o);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }

  now(): number {
    return Date.now();
  }

  processUptime(): number {
    return process.uptime();
  }

  kernelRelease(): string {
    return release();
  }

  lstatFull(path: string): FullStat | null {
    let st;
    try {
      st = lstatSync(path, { bigint: true });
    } catch {
      return null;
    }
    // Linux's device number encoding, so that a whiteout (0:0) is exactly rdev 0.
    const rdev = st.rdev;
    const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
    const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
    return {
      kind: kindOf(st),
      size: Number(st.size),
      dev: Number(st.dev),
      mode: Number(st.mode),
      rdevMajor: major,
      rdevMinor: minor,
      uid: Number(st.uid),
      gid: Number(st.gid),
      ino: Number(st.ino),
      nlink: Number(st.nlink),
      atimeNs: st.atimeNs,
      mtimeNs: st.mtimeNs,
    };
  }

  readDir(path: string): DirEntry[] {
    return readdirSync(path, { withFileTypes: true })
      .map((e) => ({ name: e.name, kind: kindOf(e) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  mkdirNew(path: string): void {
    mkdirSync(path);
  }

  writeNew(path: string, text: string): boolean {
    let fd: number;
    try {
      fd = openSync(path, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw e;
    }
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  link(existing: string, path: string): void {
    linkSync(existing, path);
  }

  lchown(path: string, uid: number, gid: number): void {
    lchownSync(path, uid, gid);
  }

  chmod(path: string, mode: number): void {
    chmodSync(path, mode & 0o7777);
  }

  /** Node sets times from a double (seconds): they land within about a microsecond of the nanoseconds. */
  lutimes(path: string, atimeNs: bigint, mtimeNs: bigint): void {
    lutimesSync(path, Number(atimeNs) / 1e9, Number(mtimeNs) / 1e9);
  }

  statfs(path: string): FsSpace {
    const s = statfsSync(path);
    return {
      available: Number(s.bavail) * Number(s.bsize),
      used: (Number(s.blocks) - Number(s.bfree)) * Number(s.bsize),
      usedInodes: Number(s.files) - Number(s.ffree),
    };
  }

  sync(): void {
    run("sync", []);
  }

  writeAt(path: string, offset: number, data: Uint8Array): void {
    const fd = openSync(path, "r+");
    try {
      for (let n = 0; n < data.byteLength;) n += writeSync(fd, data, n, data.byteLength - n, offset + n);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  rereadPartitions(disk: string): boolean {
    return run("blockdev", ["--rereadpt", disk], { allowFail: true }).status === 0;
  }

  growExt(_mountpoint: string, device: string, bytes: number): void {
    run("resize2fs", [device, `${Math.floor(bytes / 1024)}K`]);
  }

  allocate(path: string, bytes: number): void {
    if (run("fallocate", ["-l", String(bytes), path], { allowFail: true }).status === 0) return;
    const fd = openSync(path, "w");
    try {
      ftruncateSync(fd, bytes);
    } finally {
      closeSync(fd);
    }
  }

  xattrs(dir: string): XattrEntry[] {
    return dumpXattrs(dir);
  }

  setXattrs(dir: string, entries: readonly XattrEntry[], scratch: string): void {
    restoreXattrs(dir, entries, scratch);
  }

  run(cmd: string, args: readonly string[], o: ProgramOptions = {}): ProgramResult {
    const r = run(cmd, args, {
      ...(o.allowFail ? { allowFail: true } : {}),
      ...(o.input !== undefined ? { input: o.input } : {}),
      ...(o.inherit ? { inherit: true } : {}),
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  start(cmd: string, args: readonly string[]): number {
    const child = start(cmd, args, { stdio: "ignore" });
    // Not this process's to wait for: it must not keep Node's event loop alive either.
    child.unref();
    return child.pid ?? 0;
  }

  luksFormat(file: string, password: string): void {
    luksFormat(file, password);
  }

  cwd(): string {
    return process.cwd();
  }

  pid(): number {
    return process.pid;
  }

  alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "EPERM";
    }
  }

  kill(pid: number, signal: "SIGKILL" | "SIGTERM"): void {
    process.kill(pid, signal);
  }

  env(name: string): string | undefined {
    return process.env[name];
  }

  ignoreHangup(): void {
    process.on("SIGHUP", () => undefined);
  }

  stdinIsTerminal(): boolean {
    return process.stdin.isTTY === true;
  }

  readStdin(): string {
    return readFileSync(0, "utf8");
  }

  sayError(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  writeError(text: string): void {
    process.stderr.write(text);
  }

  errorIsTerminal(): boolean {
    return process.stderr.isTTY === true;
  }
}

export const BUSYBOX = "/bin/busybox";
