// The port on the small engine (QuickJS with ramstack:sys, built by
// src/build/quickjs.ts): what the init and the running system's ramstack
// command run on, with no Node.js in the initrd. Files, times, owners,
// xattrs and mounts are system calls (ramstack:sys, os, std); programs
// (modprobe, cryptsetup, e2fsck, cp) are started by sys.spawn, the one place
// that runs subprocesses here. Errors name the call and the path, as Node's do.

import * as os from "os";
import * as std from "std";
import * as sys from "ramstack:sys";
import { hex } from "../lib/bytes.js";
import { join } from "../lib/path.js";
import type { MountEntry } from "../plan/layout.js";
import { parseMounts } from "../plan/layout.js";
import type { MountCall } from "./mount-options.js";
import { mountCall } from "./mount-options.js";
import type { ModuleIndex } from "./module-index.js";
import { cmdlineModuleParams, loadOrder, parseModuleIndex } from "./module-index.js";
import {
  commandLine,
  CRYPTSETUP_LOCK_DIR,
  failureMessage,
  LOAD_KEYMAP_SCRIPT,
  LUKS_WRONG_PASSWORD,
  luksFormatArgs,
  luksOpenArgs,
  moduleIsLive,
  moduleState,
  runtimeTool,
} from "./commands.js";
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

const BUSYBOX = "/bin/busybox";
const EEXIST = 17;
const EPERM = 1;
const SIGHUP = 1;
const SIGNALS = { SIGKILL: 9, SIGTERM: 15 } as const;
const CHUNK = 1 << 16;

/** An Error shaped as Node's: the call, the path, errno's name. */
function osError(call: string, path: string, negErrno: number): Error {
  const errno = -negErrno;
  const e = new Error(`${call}(${path}): ${std.strerror(errno)}`) as Error & { errno: number; code: string };
  e.errno = errno;
  e.code = ERRNO_NAMES[errno] ?? `E${errno}`;
  return e;
}
/** The errno names the callers look at (others read E<number>). */
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  13: "EACCES",
  16: "EBUSY",
  17: "EEXIST",
  18: "EXDEV",
  20: "ENOTDIR",
  21: "EISDIR",
  28: "ENOSPC",
  30: "EROFS",
  39: "ENOTEMPTY",
};

function check(call: string, path: string, r: number): void {
  if (r < 0) throw osError(call, path, r);
}

function kindOfMode(mode: number): FileKind {
  switch (mode & sys.S_IFMT) {
    case sys.S_IFLNK:
      return "symlink";
    case sys.S_IFDIR:
      return "dir";
    case sys.S_IFCHR:
      return "char";
    case sys.S_IFBLK:
      return "block";
    case sys.S_IFIFO:
      return "fifo";
    case sys.S_IFSOCK:
      return "socket";
    default:
      return "file";
  }
}

function toStat(st: sys.Stat): FileStat {
  return {
    kind: kindOfMode(st.mode),
    size: st.size,
    dev: st.dev,
    mode: st.mode,
    rdevMajor: st.rdevMajor,
    rdevMinor: st.rdevMinor,
  };
}

function tryStat(f: (p: string) => sys.Stat, path: string): sys.Stat | null {
  try {
    return f(path);
  } catch {
    return null;
  }
}

/** The first LENGTH bytes of BYTES (all by default) to a descriptor: a write may take only part. */
function writeAll(fd: number, bytes: ArrayBuffer, what: string, length = bytes.byteLength): void {
  for (let off = 0; off < length;) {
    const n = os.write(fd, bytes, off, length - off);
    check("write", what, n);
    off += n;
  }
}

function fromHex(h: string): Uint8Array {
  const s = h.replace(/^0x/, "");
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A module tree's indexes as read (KEY: modules.dep's identity) and the command line's module parameters. */
interface LoadedModuleIndex {
  key: string;
  dir: string;
  index: ModuleIndex;
  params: Map<string, string>;
}

/** A mount's failure in the one format: the command it stands for, then the system call's error. */
function mountFailing(shown: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    throw new Error(`${shown} failed: ${(e as Error).message}`);
  }
}

/** EROFS or EACCES: a write-protected card or disk, which mount(8) mounts read-only instead. */
const writeProtected = (e: unknown): boolean => ["EROFS", "EACCES"].includes((e as { code?: string }).code ?? "");

/**
 * mount(2) as busybox mount does it: through a loop device (autoclear: it
 * goes with the mount, or at once if the mount fails) when asked, and read-
 * only when the disk or the image's file is write-protected.
 */
function mountThrough(m: MountSpec, call: MountCall): void {
  let flags = call.flags.reduce((f, name) => f | sys[name], 0);
  const data = call.data || null;
  const fallback = !call.readOnly && (flags & (sys.MS_REMOUNT | sys.MS_BIND)) === 0;
  if (!call.loop) {
    try {
      sys.mount(m.source, m.target, m.fstype, flags, data);
    } catch (e) {
      if (!fallback || !writeProtected(e)) throw e;
      sys.mount(m.source, m.target, m.fstype, flags | sys.MS_RDONLY, data);
    }
    return;
  }
  let loop: { path: string; fd: number };
  try {
    loop = sys.loopAttach(m.source, { readOnly: call.readOnly, autoclear: true });
  } catch (e) {
    if (!fallback || !writeProtected(e)) throw e;
    loop = sys.loopAttach(m.source, { readOnly: true, autoclear: true });
    flags |= sys.MS_RDONLY;
  }
  try {
    sys.mount(loop.path, m.target, m.fstype, flags, data);
  } finally {
    sys.close(loop.fd);
  }
}

export class QuickJsPort implements Port {
  /** One buffer for every copy: a save copies thousands of small files, each must not cost a fresh 64 KiB. */
  private readonly chunk = new ArrayBuffer(CHUNK);
  private exists = (p: string): boolean => tryStat(sys.stat, p) !== null;

  /** A program, waited for; its output collected. */
  private spawn(
    cmd: string,
    args: readonly string[],
    o: { input?: string; inherit?: boolean; cwd?: string } = {},
  ): ProgramResult {
    try {
      return sys.spawn([cmd, ...args], {
        ...(o.input !== undefined ? { input: o.input } : {}),
        ...(o.inherit ? { inherit: true } : {}),
        ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
      });
    } catch (e) {
      // As Node's runner reports it: a missing program is exit status 127.
      if ((e as { code?: string }).code === "ENOENT")
        return { status: 127, stdout: "", stderr: `${cmd}: command not found` };
      throw e;
    }
  }

  /** A program that must succeed: its failure throws in the one format. */
  private must(cmd: string, args: readonly string[], shown = commandLine(cmd, args)): CommandResult {
    const r = this.spawn(cmd, args);
    const output = (r.stdout + r.stderr).trim();
    if (r.status !== 0) throw new Error(failureMessage(shown, r.status, output));
    return { status: 0, output };
  }

  readText(path: string): string | undefined {
    const f = std.open(path, "r");
    if (!f) return undefined;
    try {
      const s = f.readAsString();
      return f.error() ? undefined : s;
    } finally {
      f.close();
    }
  }

  readAt(path: string, offset: number, length: number): Uint8Array | undefined {
    let fd: number;
    try {
      fd = sys.open(path, sys.O_RDONLY | sys.O_CLOEXEC);
    } catch {
      return undefined;
    }
    try {
      if (os.seek(fd, offset, os.SEEK_SET) < 0) return undefined;
      const buf = new ArrayBuffer(length);
      let n = 0;
      while (n < length) {
        const got = os.read(fd, buf, n, length - n);
        if (got < 0) return undefined;
        if (got === 0) break;
        n += got;
      }
      return new Uint8Array(buf, 0, n);
    } finally {
      sys.close(fd);
    }
  }

  private writeFile(path: string, text: string, mode: string): void {
    const err: { errno?: number } = {};
    const f = std.open(path, mode, err);
    if (!f) throw osError("open", path, -(err.errno ?? 5));
    f.puts(text);
    f.flush();
    const failed = f.error();
    if (f.close() !== 0 || failed) throw new Error(`write(${path}): the text could not be written in full`);
  }

  writeText(path: string, text: string): void {
    this.writeFile(path, text, "w");
  }

  appendText(path: string, text: string): void {
    this.writeFile(path, text, "a");
  }

  mkdir(path: string): void {
    let p = path.startsWith("/") ? "" : ".";
    for (const part of path.split("/").filter(Boolean)) {
      p += `/${part}`;
      const r = os.mkdir(p, 0o777);
      if (r < 0 && !(-r === EEXIST && this.stat(p)?.kind === "dir")) throw osError("mkdir", p, r);
    }
  }

  list(path: string): string[] {
    const [names, err] = os.readdir(path);
    if (err) return [];
    return names.filter((n) => n !== "." && n !== "..").sort();
  }

  lstat(path: string): FileStat | null {
    const st = tryStat(sys.lstat, path);
    return st ? toStat(st) : null;
  }

  stat(path: string): FileStat | null {
    const st = tryStat(sys.stat, path);
    return st ? toStat(st) : null;
  }

  symlink(target: string, path: string): void {
    check("symlink", path, os.symlink(target, path));
  }

  readlink(path: string): string | null {
    const [target, err] = os.readlink(path);
    return err ? null : target;
  }

  realpath(path: string): string {
    const [real, err] = os.realpath(path);
    check("realpath", path, -err);
    return real;
  }

  rename(from: string, to: string): void {
    check("rename", `${from}, ${to}`, os.rename(from, to));
  }

  remove(path: string): void {
    const st = tryStat(sys.lstat, path);
    if (!st) return;
    if (kindOfMode(st.mode) !== "dir") return check("unlink", path, os.remove(path));
    if (os.remove(path) === 0) return;
    this.removeTree(path);
  }

  /** rm -rf that stays on one filesystem: a mount below is left, and its directory with it. */
  private removeTree(dir: string): void {
    const left = sys.removeContents(dir, []);
    if (left === 0) check("rmdir", dir, os.remove(dir));
    else throw new Error(`rm -rf ${dir}: ${left} entries could not be deleted`);
  }

  removeEmptyDir(path: string): boolean {
    return this.lstat(path)?.kind === "dir" && os.remove(path) === 0;
  }

  removeContents(dir: string, keep: readonly string[]): number {
    return sys.removeContents(dir, keep);
  }

  copyFile(from: string, to: string): void {
    const src = sys.open(from, sys.O_RDONLY | sys.O_CLOEXEC);
    try {
      const mode = sys.stat(from).mode & 0o7777;
      const dst = sys.open(to, sys.O_WRONLY | sys.O_CREAT | sys.O_TRUNC | sys.O_CLOEXEC, mode);
      try {
        for (;;) {
          const n = os.read(src, this.chunk, 0, CHUNK);
          check("read", from, n);
          if (n === 0) break;
          writeAll(dst, this.chunk, to, n);
        }
      } finally {
        sys.close(dst);
      }
    } finally {
      sys.close(src);
    }
  }

  copyTree(from: string, intoDir: string): void {
    this.must("cp", ["-af", from, intoDir]);
  }

  syncFs(path: string): void {
    try {
      const fd = sys.open(path, sys.O_RDONLY | sys.O_CLOEXEC);
      try {
        sys.syncfs(fd);
      } finally {
        sys.close(fd);
      }
    } catch {
      // As on Node (sync -f): a path that cannot be flushed is not an error here.
    }
  }

  mknodChar(path: string, major: number, minor: number): void {
    sys.mknod(path, sys.S_IFCHR | 0o666, major, minor);
  }

  // Mounts are mount(2) calls, not busybox mount: a process start costs
  // 25-35 ms under emulation, and a boot makes about fifteen of them.
  mount(m: MountSpec): void {
    const opts = m.options?.length ? ["-o", m.options.join(",")] : [];
    mountFailing(commandLine("mount", ["-t", m.fstype, ...opts, m.source, m.target]), () =>
      mountThrough(m, mountCall(m.options ?? [])),
    );
  }

  bind(source: string, target: string, readOnly: boolean): void {
    mountFailing(`mount -o bind ${source} ${target}`, () => sys.mount(source, target, null, sys.MS_BIND, null));
    if (readOnly)
      mountFailing(`mount -o remount,bind,ro ${target}`, () =>
        sys.mount(null, target, null, sys.MS_REMOUNT | sys.MS_BIND | sys.MS_RDONLY, null),
      );
  }

  move(moves: readonly (readonly [string, string])[]): void {
    for (const [source, target] of moves)
      mountFailing(`mount -o move ${source} ${target}`, () => sys.mount(source, target, null, sys.MS_MOVE, null));
  }

  moveCwdToRoot(): void {
    sys.mount(".", "/", null, sys.MS_MOVE, null);
  }

  umount(target: string, lazy = false): boolean {
    try {
      sys.umount2(target, lazy ? sys.MNT_DETACH : 0);
      return true;
    } catch {
      return false;
    }
  }

  mounts(): MountEntry[] {
    return parseMounts(this.readText("/proc/mounts") ?? "");
  }

  /**
   * modprobe -a -q without a process: the modules and what they need, in
   * order, through finit_module. A module another process is loading (the
   * init's head start) makes the kernel wait for it, so each is live on
   * return (unless leaveLoading: then it is skipped, and this process loads
   * the others meanwhile). Names that resolve to nothing, and modules that
   * fail, are not an error, as with -q.
   */
  modprobe(names: readonly string[], o: { leaveLoading?: boolean } = {}): void {
    if (names.length === 0) return;
    const m = this.moduleIndex();
    if (!m) {
      this.spawn("modprobe", ["-a", "-q", ...names]);
      return;
    }
    for (const name of loadOrder(m.index, names)) {
      const state = moduleState(name, this);
      if (state === "live" || (state === "loading" && o.leaveLoading)) continue;
      try {
        sys.finitModule(`${m.dir}/${m.index.paths.get(name)!}`, m.params.get(name) ?? "");
      } catch {
        // EEXIST: loaded meanwhile by another process (the kernel waited for it). Other failures, as modprobe -q.
      }
    }
  }

  insmod(file: string): void {
    try {
      sys.finitModule(file, "");
    } catch (e) {
      // Loaded already (or built into this kernel): what insmod -q would keep quiet about.
      if ((e as { errno?: number }).errno !== EEXIST) throw e;
    }
  }

  moduleLoadBytes(names: readonly string[]): number {
    const m = this.moduleIndex();
    if (!m) return 0;
    let bytes = 0;
    for (const name of loadOrder(m.index, names))
      if (moduleState(name, this) !== "live")
        bytes += tryStat(sys.stat, `${m.dir}/${m.index.paths.get(name)!}`)?.size ?? 0;
    return bytes;
  }

  /** The module indexes of /lib/modules/KVER, read again when another tree is bound there (a stack's zdrv). */
  private moduleIndex(): LoadedModuleIndex | null {
    const dir = `/lib/modules/${this.kernelRelease()}`;
    const st = tryStat(sys.stat, `${dir}/modules.dep`);
    if (!st) return null;
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeSec}`;
    if (this.modules?.key !== key) {
      const index = parseModuleIndex(
        this.readText(`${dir}/modules.dep`) ?? "",
        this.readText(`${dir}/modules.alias`) ?? "",
        { buses: sys.aliasBuses, match: sys.aliasMatch },
      );
      this.modules = { key, dir, index, params: cmdlineModuleParams(this.readText("/proc/cmdline") ?? "") };
    }
    return this.modules;
  }

  private modules: LoadedModuleIndex | null = null;

  moduleAliasBuses(): string[] | null {
    const m = this.moduleIndex();
    return m ? [...m.index.buses] : null;
  }

  moduleLoaded(name: string): boolean {
    return moduleIsLive(name, this);
  }

  fsck(target: string): CommandResult {
    const t = runtimeTool("e2fsck", this.exists);
    const r = this.spawn(t.cmd, [...t.args, "-p", target]);
    return { status: r.status, output: (r.stdout + r.stderr).trim() };
  }

  private cryptsetup(args: string[], password?: string): ProgramResult {
    this.mkdir(CRYPTSETUP_LOCK_DIR);
    const t = runtimeTool("cryptsetup", this.exists);
    return this.spawn(t.cmd, [...t.args, ...args], password !== undefined ? { input: password } : {});
  }

  luksOpen(file: string, name: string, password: string): boolean {
    const r = this.cryptsetup(luksOpenArgs(file, name), password);
    if (r.status === LUKS_WRONG_PASSWORD) return false;
    if (r.status !== 0) throw new Error(failureMessage(`cryptsetup open ${file}`, r.status, r.stderr + r.stdout));
    return true;
  }

  luksClose(name: string): void {
    const r = this.cryptsetup(["close", name]);
    if (r.status !== 0) throw new Error(failureMessage(`cryptsetup close ${name}`, r.status, r.stderr + r.stdout));
  }

  luksFormat(file: string, password: string): void {
    if (password === "") throw new Error("an empty password cannot protect a save");
    const r = this.cryptsetup(luksFormatArgs(file), password);
    if (r.status !== 0) throw new Error(failureMessage(`cryptsetup luksFormat ${file}`, r.status, r.stderr + r.stdout));
  }

  tool(name: string, args: readonly string[]): CommandResult {
    const t = runtimeTool(name, this.exists);
    // Named as the program, not its loader.
    return this.must(t.cmd, [...t.args, ...args], commandLine(t.program, args));
  }

  loadKeymap(file: string): string | null {
    const r = this.spawn("sh", ["-c", LOAD_KEYMAP_SCRIPT, "sh", file]);
    return r.status === 0 ? null : (r.stdout + r.stderr).trim() || "loadkmap failed";
  }

  shell(): void {
    this.spawn(BUSYBOX, ["sh"], { inherit: true });
  }

  chdir(path: string): void {
    sys.chdir(path);
  }

  chroot(path: string): void {
    sys.chroot(path);
  }

  execve(path: string, argv: readonly string[], env: Record<string, string>): never {
    return sys.execve(path, argv, env);
  }

  say(line: string): void {
    try {
      std.out.puts(line + "\n");
      std.out.flush();
    } catch {
      // The log file has it.
    }
  }

  ask(prompt: string, timeoutSec: number, o: AskOptions = {}): string | null {
    const dev = o.device ?? "/dev/console";
    const fd = sys.open(dev, sys.O_RDWR | sys.O_NOCTTY | sys.O_CLOEXEC);
    try {
      // Echo goes off before the prompt shows (in readLine), so nothing typed after it is echoed.
      const answer = sys.readLine(fd, timeoutSec * 1000, !o.silent, prompt);
      // End the prompt's line when nobody answered (an answer's Enter has done so).
      if (answer === null) writeAll(fd, sys.utf8Encode("\n"), dev);
      // A password is kept as typed: spaces can be part of it.
      return answer === null ? null : o.silent ? answer : answer.trim();
    } finally {
      sys.close(fd);
    }
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      os.setTimeout(resolve, ms);
    });
  }

  now(): number {
    return Date.now();
  }

  /** Since the runtime's main() began (PID 1's start time in /proc is the kernel's, from before it ran /init). */
  processUptime(): number {
    return sys.uptime() - sys.startedAt();
  }

  kernelRelease(): string {
    return (this.readText("/proc/sys/kernel/osrelease") ?? "").trim();
  }

  lstatFull(path: string): FullStat | null {
    const st = tryStat(sys.lstat, path);
    if (!st) return null;
    return {
      ...toStat(st),
      uid: st.uid,
      gid: st.gid,
      ino: st.ino,
      nlink: st.nlink,
      atimeNs: BigInt(st.atimeSec) * 1_000_000_000n + BigInt(st.atimeNsec),
      mtimeNs: BigInt(st.mtimeSec) * 1_000_000_000n + BigInt(st.mtimeNsec),
    };
  }

  readDir(path: string): DirEntry[] {
    const [names, err] = os.readdir(path);
    check("scandir", path, -err);
    return names
      .filter((n) => n !== "." && n !== "..")
      .sort()
      .map((name) => ({ name, kind: kindOfMode(sys.lstat(join(path, name)).mode) }));
  }

  mkdirNew(path: string): void {
    check("mkdir", path, os.mkdir(path, 0o777));
  }

  writeNew(path: string, text: string): boolean {
    let fd: number;
    try {
      fd = sys.open(path, sys.O_WRONLY | sys.O_CREAT | sys.O_EXCL | sys.O_CLOEXEC, 0o666);
    } catch (e) {
      if ((e as { code?: string }).code === "EEXIST") return false;
      throw e;
    }
    try {
      writeAll(fd, sys.utf8Encode(text), path);
    } finally {
      sys.close(fd);
    }
    return true;
  }

  link(existing: string, path: string): void {
    sys.link(existing, path);
  }

  lchown(path: string, uid: number, gid: number): void {
    sys.lchown(path, uid, gid);
  }

  chmod(path: string, mode: number): void {
    sys.chmod(path, mode & 0o7777);
  }

  lutimes(path: string, atimeNs: bigint, mtimeNs: bigint): void {
    const sec = (ns: bigint): number => Number(ns / 1_000_000_000n);
    const nsec = (ns: bigint): number => Number(ns % 1_000_000_000n);
    sys.utimensat(path, sec(atimeNs), nsec(atimeNs), sec(mtimeNs), nsec(mtimeNs), true);
  }

  statfs(path: string): FsSpace {
    const s = sys.statfs(path);
    return { available: s.bavail * s.bsize, used: (s.blocks - s.bfree) * s.bsize, usedInodes: s.files - s.ffree };
  }

  sync(): void {
    sys.sync();
  }

  writeAt(path: string, offset: number, data: Uint8Array): void {
    const fd = sys.open(path, sys.O_WRONLY | sys.O_CLOEXEC);
    try {
      if (os.seek(fd, offset, os.SEEK_SET) < 0) throw new Error(`cannot seek to ${offset} in ${path}`);
      const buf = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
      for (let n = 0; n < data.byteLength;) {
        const wrote = os.write(fd, buf, n, data.byteLength - n);
        if (wrote <= 0) throw new Error(`cannot write ${path} at ${offset + n}`);
        n += wrote;
      }
      sys.fsync(fd);
    } finally {
      sys.close(fd);
    }
  }

  rereadPartitions(disk: string): boolean {
    const fd = sys.open(disk, sys.O_RDONLY | sys.O_CLOEXEC);
    try {
      sys.rereadPartitions(fd);
      return true;
    } catch {
      return false;
    } finally {
      sys.close(fd);
    }
  }

  growExt(mountpoint: string, _device: string, bytes: number): void {
    const blocks = Math.floor(bytes / sys.statfs(mountpoint).bsize);
    const fd = sys.open(mountpoint, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_CLOEXEC);
    try {
      sys.ext4Resize(fd, blocks);
    } finally {
      sys.close(fd);
    }
  }

  allocate(path: string, bytes: number): void {
    const fd = sys.open(path, sys.O_WRONLY | sys.O_CREAT | sys.O_TRUNC | sys.O_CLOEXEC, 0o666);
    try {
      try {
        sys.fallocate(fd, 0, 0, bytes);
      } catch {
        sys.ftruncate(fd, bytes);
      }
    } finally {
      sys.close(fd);
    }
  }

  xattrs(dir: string): XattrEntry[] {
    const out: XattrEntry[] = [];
    // The kind comes with the directory's listing: one lstat per entry, not two.
    const visit = (rel: string, kind: FileKind): void => {
      const path = rel === "." ? dir : join(dir, rel);
      const names = sys.llistxattr(path);
      if (names.length) {
        const attrs = new Map<string, string>();
        for (const name of names.sort()) {
          const v = sys.lgetxattr(path, name);
          if (v !== null) attrs.set(name, `0x${hex(new Uint8Array(v))}`);
        }
        out.push({ path: rel, attrs });
      }
      if (kind !== "dir") return;
      for (const e of this.readDir(path)) visit(`${rel}/${e.name}`, e.kind);
    };
    visit(".", kindOfMode(sys.lstat(dir).mode));
    return out;
  }

  setXattrs(dir: string, entries: readonly XattrEntry[], _scratch: string): void {
    for (const e of entries)
      for (const [name, value] of e.attrs) sys.lsetxattr(join(dir, e.path), name, fromHex(value));
  }

  run(cmd: string, args: readonly string[], o: ProgramOptions = {}): ProgramResult {
    const r = this.spawn(cmd, args, {
      ...(o.input !== undefined ? { input: o.input } : {}),
      ...(o.inherit ? { inherit: true } : {}),
    });
    if (r.status !== 0 && !o.allowFail)
      throw new Error(failureMessage(commandLine(cmd, args), r.status, r.stderr || r.stdout));
    return r;
  }

  start(cmd: string, args: readonly string[]): number {
    const nul = os.open("/dev/null", os.O_RDWR);
    check("open", "/dev/null", nul < 0 ? nul : 0);
    try {
      return os.exec([cmd, ...args], { block: false, stdin: nul, stdout: nul, stderr: nul });
    } finally {
      os.close(nul);
    }
  }

  cwd(): string {
    const [dir, err] = os.getcwd();
    check("getcwd", ".", -err);
    return dir;
  }

  pid(): number {
    return sys.getpid();
  }

  alive(pid: number): boolean {
    const r = os.kill(pid, 0);
    return r === 0 || r === -EPERM;
  }

  kill(pid: number, signal: "SIGKILL" | "SIGTERM"): void {
    check("kill", String(pid), os.kill(pid, SIGNALS[signal]));
  }

  env(name: string): string | undefined {
    return std.getenv(name) ?? undefined;
  }

  ignoreHangup(): void {
    os.signal(SIGHUP, undefined);
  }

  stdinIsTerminal(): boolean {
    return os.isatty(0);
  }

  readStdin(): string {
    return std.in.readAsString();
  }

  sayError(line: string): void {
    this.writeError(line + "\n");
  }

  writeError(text: string): void {
    std.err.puts(text);
    std.err.flush();
  }

  errorIsTerminal(): boolean {
    return os.isatty(2);
  }
}
