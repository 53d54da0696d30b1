// A recording fake of the port, for testing the executor's decisions: files
// live under a real directory that stands for "/" (kept through a real port,
// so the fake runs on either engine), mounts are a table (a
// mount point's directory is made, a move carries its files along), and
// every action on the machine is written to `calls`, one line each, in the
// words of the command it stands for. Calls can be made to fail, passwords
// and console answers are given up front, and execve ends the run by
// throwing Exec.

import { defaultPort } from "./default.js";
import { moduleName } from "./module-index.js";
import { removeContentsByWalk } from "./remove-contents.js";
import { join } from "../lib/path.js";
import type { MountEntry } from "../plan/layout.js";
import type {
  AskOptions,
  CommandResult,
  DirEntry,
  FileStat,
  FsSpace,
  FullStat,
  MountSpec,
  Port,
  ProgramOptions,
  ProgramResult,
  XattrEntry,
} from "./port.js";

/** execve was called: the process would be replaced here. */
export class Exec extends Error {
  constructor(
    readonly path: string,
    readonly argv: readonly string[],
  ) {
    super(`execve ${path} ${argv.join(" ")}`);
  }
}

export interface RecordingOptions {
  /** A real directory that stands for "/". */
  root: string;
  /** An error message for a call that should fail (matched against its line in `calls`), or null. */
  fail?: (call: string) => string | null;
  /** Passwords that open LUKS containers: file -> password. */
  passwords?: Record<string, string>;
  /** What the console answers, in order; null is no answer in time. */
  answers?: (string | null)[];
  /** e2fsck's exit status per target (default 0). */
  fsckStatus?: Record<string, number>;
  /** Mounts already there (/dev, /proc, /sys of an earlier run). */
  mounts?: MountEntry[];
  /** What /proc/filesystems lists. */
  filesystems?: string[];
  /** What a program run through run() gives (default: exit 0, no output); a non-zero status throws unless allowFail. */
  programs?: (cmd: string, args: readonly string[]) => ProgramResult | undefined;
  /** The process id start() gives (default 4243). */
  startedPid?: number;
  /** Called after each modprobe (a test's devices may appear then). */
  onModprobe?: (names: readonly string[]) => void;
  /** What loading a module alias's drivers costs, in bytes (moduleLoadBytes; default 0). */
  moduleBytes?: Record<string, number>;
  /** Free bytes statfs reports (default 1 GiB). */
  availableBytes?: number;
  /** This process's id (default 4242) and the other processes that are alive. */
  pid?: number;
  alivePids?: number[];
  env?: Record<string, string>;
  /** stdin: a terminal (default), or this text. */
  stdin?: string;
  /** What a mount shows: a mount source (a device, an image file, "unionfs") -> a real directory with its files. */
  contents?: Record<string, string>;
  /** Called when a shell would start (it may throw to end a test's boot). */
  onShell?: () => void;
  /** The real port the fake's own files are kept through (default: the default port). */
  host?: Port;
}

export class RecordingPort implements Port {
  /** Every action on the machine, in order. */
  readonly calls: string[] = [];
  /** What was shown on the console. */
  readonly said: string[] = [];
  private readonly table: MountEntry[];
  private readonly loaded = new Set<string>();
  private readonly answers: (string | null)[];
  private clock = 0;
  /** Extended attributes, by machine path (the fake's files have none of their own). */
  private readonly xattrTable = new Map<string, Map<string, string>>();

  private readonly fs: Port;

  constructor(private readonly o: RecordingOptions) {
    this.fs = o.host ?? defaultPort();
    this.table = [...(o.mounts ?? [])];
    this.answers = [...(o.answers ?? [])];
  }

  /** The fake's own file for a machine path. */
  path(p: string): string {
    return join(this.o.root, p);
  }

  private record(line: string): void {
    this.calls.push(line);
    const err = this.o.fail?.(line);
    if (err) throw new Error(`${line} failed: ${err}`);
  }

  readText(path: string): string | undefined {
    if (path === "/proc/mounts")
      return this.table.map((m) => `${m.source} ${m.target} ${m.fstype} ${m.options || "rw"} 0 0`).join("\n") + "\n";
    if (path === "/proc/filesystems")
      return (this.o.filesystems ?? ["ext4", "vfat", "tmpfs"]).map((f) => `\t${f}`).join("\n") + "\n";
    return this.fs.readText(this.path(path));
  }

  readAt(path: string, offset: number, length: number): Uint8Array | undefined {
    return this.fs.readAt(this.path(path), offset, length);
  }

  /** A path's device: 1 + the index of the mount it is under, 0 for the initramfs (freeInitramfs keeps off the others). */
  private devOf(path: string): number {
    let best = -1;
    this.table.forEach((m, i) => {
      if (
        (path === m.target || path.startsWith(m.target === "/" ? "/" : `${m.target}/`)) &&
        (best < 0 || m.target.length >= this.table[best]!.target.length)
      )
        best = i;
    });
    return best + 1;
  }

  writeText(path: string, text: string): void {
    this.record(`write ${path}`);
    this.fs.writeText(this.path(path), text);
  }

  appendText(path: string, text: string): void {
    this.fs.appendText(this.path(path), text);
  }

  mkdir(path: string): void {
    this.fs.mkdir(this.path(path));
  }

  list(path: string): string[] {
    return this.fs.list(this.path(path));
  }

  /** The fake's device numbers are its mount table's; whiteouts are empty files, so no device numbers. */
  private fakeStat(st: FileStat | null, path: string): FileStat | null {
    return st && { kind: st.kind, size: st.size, dev: this.devOf(path), mode: st.mode, rdevMajor: 0, rdevMinor: 0 };
  }

  lstat(path: string): FileStat | null {
    return this.fakeStat(this.fs.lstat(this.path(path)), path);
  }

  stat(path: string): FileStat | null {
    return this.fakeStat(this.fs.stat(this.path(path)), path);
  }

  symlink(target: string, path: string): void {
    this.record(`ln -s ${target} ${path}`);
    this.fs.symlink(target, this.path(path));
  }

  readlink(path: string): string | null {
    return this.fs.readlink(this.path(path));
  }

  /** Relative links are followed inside the fake; the result is a machine path. */
  realpath(path: string): string {
    const real = this.fs.realpath(this.path(path));
    const root = this.fs.realpath(this.o.root);
    return real === root ? "/" : real.slice(root.length);
  }

  rename(from: string, to: string): void {
    this.record(`mv ${from} ${to}`);
    this.fs.rename(this.path(from), this.path(to));
  }

  remove(path: string): void {
    if (this.lstat(path) === null) return;
    this.record(`rm -rf ${path}`);
    this.fs.remove(this.path(path));
  }

  removeEmptyDir(path: string): boolean {
    return this.fs.removeEmptyDir(this.path(path));
  }

  /** Through the fake's own calls: each deletion is recorded as rm -rf. */
  removeContents(dir: string, keep: readonly string[]): number {
    return removeContentsByWalk(this, dir, keep);
  }

  copyFile(from: string, to: string): void {
    this.record(`cp ${from} ${to}`);
    this.fs.copyFile(this.path(from), this.path(to));
  }

  copyTree(from: string, intoDir: string): void {
    this.record(`cp -af ${from} ${intoDir}`);
    this.fs.copyTree(this.path(from), this.path(intoDir));
  }

  syncFs(path: string): void {
    this.calls.push(`sync -f ${path}`);
  }

  mknodChar(path: string, major: number, minor: number): void {
    this.record(`mknod ${path} c ${major} ${minor}`);
    this.fs.writeText(this.path(path), "");
  }

  mount(m: MountSpec): void {
    this.record(`mount -t ${m.fstype}${m.options?.length ? ` -o ${m.options.join(",")}` : ""} ${m.source} ${m.target}`);
    this.fs.mkdir(this.path(m.target));
    const options = (m.options ?? []).join(",");
    if (m.options?.includes("remount")) {
      const t = this.table.filter((x) => x.target === m.target).pop();
      if (t) t.options = options;
      return;
    }
    this.table.push({ source: m.source, target: m.target, fstype: m.fstype, options });
    // The mounted filesystem's files: the mount point shows the given directory.
    const shown = this.o.contents?.[m.source];
    if (shown) {
      this.fs.remove(this.path(m.target));
      this.fs.symlink(shown, this.path(m.target));
    }
  }

  bind(source: string, target: string, readOnly: boolean): void {
    this.record(`mount -o bind${readOnly ? ",ro" : ""} ${source} ${target}`);
    this.table.push({ source, target, fstype: "bind", options: readOnly ? "ro" : "rw" });
  }

  move(moves: readonly (readonly [string, string])[]): void {
    for (const [from, to] of moves) {
      this.record(`mount -o move ${from} ${to}`);
      for (const m of this.table) {
        if (m.target === from) m.target = to;
        else if (m.target.startsWith(`${from}/`)) m.target = to + m.target.slice(from.length);
      }
      // The mount's files go along; the empty mount point stays behind.
      const kind = this.lstat(from)?.kind;
      if (from !== "." && (kind === "dir" || kind === "symlink")) {
        this.fs.remove(this.path(to));
        this.fs.mkdir(this.path(to.slice(0, to.lastIndexOf("/")) || "/"));
        this.fs.rename(this.path(from), this.path(to));
        this.fs.mkdir(this.path(from));
      }
    }
  }

  moveCwdToRoot(): void {
    this.record("mount -o move . /");
  }

  umount(target: string, lazy = false): boolean {
    try {
      this.record(`umount${lazy ? " -l" : ""} ${target}`);
    } catch {
      return false;
    }
    const i = this.table.map((m) => m.target).lastIndexOf(target);
    if (i < 0) return false;
    this.table.splice(i, 1);
    // What the mount showed goes; the empty mount point stays.
    if (this.lstat(target)?.kind === "symlink") {
      this.fs.remove(this.path(target));
      this.fs.mkdir(this.path(target));
    }
    return true;
  }

  mounts(): MountEntry[] {
    return this.table.map((m) => ({ ...m }));
  }

  moduleAliasBuses(): string[] | null {
    return null;
  }

  moduleLoadBytes(names: readonly string[]): number {
    return names.reduce((sum, n) => sum + (this.o.moduleBytes?.[n] ?? 0), 0);
  }

  modprobe(names: readonly string[]): void {
    this.calls.push(`modprobe ${names.join(" ")}`);
    for (const n of names) this.loaded.add(n);
    this.o.onModprobe?.(names);
  }

  insmod(file: string): void {
    this.record(`insmod ${file}`);
    this.loaded.add(moduleName(file));
  }

  moduleLoaded(name: string): boolean {
    return this.loaded.has(name);
  }

  fsck(target: string): CommandResult {
    this.record(`e2fsck -p ${target}`);
    return { status: this.o.fsckStatus?.[target] ?? 0, output: "" };
  }

  luksOpen(file: string, name: string, password: string): boolean {
    this.record(`cryptsetup open ${file} ${name}`);
    return this.o.passwords?.[file] === password;
  }

  luksClose(name: string): void {
    this.record(`cryptsetup close ${name}`);
  }

  tool(name: string, args: readonly string[]): CommandResult {
    this.record(`${name} ${args.join(" ")}`);
    return { status: 0, output: "" };
  }

  loadKeymap(file: string): string | null {
    this.calls.push(`loadkmap ${file}`);
    return null;
  }

  shell(): void {
    this.calls.push("sh");
    this.o.onShell?.();
  }

  chdir(path: string): void {
    this.calls.push(`cd ${path}`);
  }

  chroot(path: string): void {
    this.calls.push(`chroot ${path}`);
  }

  execve(path: string, argv: readonly string[]): never {
    this.calls.push(`exec ${path} ${argv.join(" ")}`);
    throw new Exec(path, argv);
  }

  say(line: string): void {
    this.said.push(line);
  }

  ask(prompt: string, _timeoutSec: number, o: AskOptions = {}): string | null {
    this.said.push(prompt);
    this.calls.push(`ask${o.silent ? " (silent)" : ""}`);
    return this.answers.length ? this.answers.shift()! : null;
  }

  /** No real wait: the clock moves on. */
  sleep(ms: number): Promise<void> {
    this.clock += ms;
    return Promise.resolve();
  }

  now(): number {
    return (this.clock += 10);
  }

  processUptime(): number {
    return 0;
  }

  kernelRelease(): string {
    return "6.1.0-test-amd64";
  }

  lstatFull(path: string): FullStat | null {
    return this.fs.lstatFull(this.path(path));
  }

  readDir(path: string): DirEntry[] {
    return this.fs.readDir(this.path(path));
  }

  mkdirNew(path: string): void {
    this.fs.mkdirNew(this.path(path));
  }

  writeNew(path: string, text: string): boolean {
    this.record(`write ${path} (new)`);
    return this.fs.writeNew(this.path(path), text);
  }

  link(existing: string, path: string): void {
    this.record(`ln ${existing} ${path}`);
    this.fs.link(this.path(existing), this.path(path));
  }

  lchown(path: string, uid: number, gid: number): void {
    this.record(`chown -h ${uid}:${gid} ${path}`);
    this.fs.lchown(this.path(path), uid, gid);
  }

  chmod(path: string, mode: number): void {
    this.record(`chmod ${(mode & 0o7777).toString(8).padStart(4, "0")} ${path}`);
    this.fs.chmod(this.path(path), mode & 0o7777);
  }

  lutimes(path: string, atimeNs: bigint, mtimeNs: bigint): void {
    this.record(`touch -h ${path}`);
    this.fs.lutimes(this.path(path), atimeNs, mtimeNs);
  }

  statfs(_path: string): FsSpace {
    return { available: this.o.availableBytes ?? 1 << 30, used: 0, usedInodes: 0 };
  }

  sync(): void {
    this.calls.push("sync");
  }

  writeAt(path: string, offset: number, data: Uint8Array): void {
    this.record(`write ${data.byteLength} bytes at ${offset} of ${path}`);
    this.fs.writeAt(this.path(path), offset, data);
  }

  rereadPartitions(disk: string): boolean {
    this.record(`blockdev --rereadpt ${disk}`);
    return this.fs.rereadPartitions(this.path(disk));
  }

  growExt(mountpoint: string, device: string, bytes: number): void {
    this.record(`resize ${device} (at ${mountpoint}) to ${bytes} bytes`);
  }

  allocate(path: string, bytes: number): void {
    this.record(`fallocate -l ${bytes} ${path}`);
    // Sparse: a test's save file of hundreds of MiB takes no room.
    this.fs.run("truncate", ["-s", String(bytes), this.path(path)]);
  }

  xattrs(dir: string): XattrEntry[] {
    const under = dir.endsWith("/") ? dir : `${dir}/`;
    return [...this.xattrTable]
      .filter(([p]) => p === dir || p.startsWith(under))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([p, attrs]) => ({ path: p === dir ? "." : `./${p.slice(under.length)}`, attrs: new Map(attrs) }));
  }

  setXattrs(dir: string, entries: readonly XattrEntry[], _scratch: string): void {
    for (const e of entries) {
      if (e.attrs.size === 0) continue;
      const p = join(dir, e.path);
      this.record(`setfattr -h ${[...e.attrs].map(([k, v]) => `-n ${k} -v ${v}`).join(" ")} ${p}`);
      this.xattrTable.set(p, new Map([...(this.xattrTable.get(p) ?? []), ...e.attrs]));
    }
  }

  run(cmd: string, args: readonly string[], o: ProgramOptions = {}): ProgramResult {
    const line = `${cmd} ${args.join(" ")}`;
    this.record(line);
    const r = this.o.programs?.(cmd, args) ?? { status: 0, stdout: "", stderr: "" };
    if (r.status !== 0 && !o.allowFail) throw new Error(`${line} failed (exit ${r.status})`);
    return r;
  }

  start(cmd: string, args: readonly string[]): number {
    this.record(`${cmd} ${args.join(" ")} &`);
    return this.o.startedPid ?? 4243;
  }

  luksFormat(file: string, _password: string): void {
    this.record(`cryptsetup luksFormat ${file}`);
  }

  cwd(): string {
    return "/";
  }

  pid(): number {
    return this.o.pid ?? 4242;
  }

  alive(pid: number): boolean {
    return pid === this.pid() || (this.o.alivePids ?? []).includes(pid);
  }

  kill(pid: number, signal: "SIGKILL" | "SIGTERM"): void {
    this.record(`kill -${signal.slice(3)} ${pid}`);
  }

  env(name: string): string | undefined {
    return this.o.env?.[name];
  }

  ignoreHangup(): void {
    this.calls.push("trap '' HUP");
  }

  stdinIsTerminal(): boolean {
    return this.o.stdin === undefined;
  }

  readStdin(): string {
    return this.o.stdin ?? "";
  }

  sayError(line: string): void {
    this.said.push(line);
  }

  writeError(text: string): void {
    this.said.push(text);
  }

  errorIsTerminal(): boolean {
    return false;
  }
}
