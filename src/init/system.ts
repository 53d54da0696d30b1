// The init's actions on the machine, through the port: mounts (loading a
// filesystem's modules the first time it is mounted), modules, LUKS, and the
// final switch_root; every action is logged, and what an attempt mounted
// can be unwound.

import type { MountEntry } from "../plan/layout.js";
import { FS_MODULES, KERNEL_FS_NAME } from "../plan/filesystems.js";
import { WHITEOUT_DEV } from "../plan/overlay.js";
import type { MountSpec, Port } from "../port/port.js";
import { LUKS_MODULES } from "../plan/luks.js";
import { commandLine } from "../port/commands.js";
import type { BootLog } from "./bootlog.js";
import { restoreBootTunables, savedBootTunables } from "./boot-tunables.js";

export type { MountSpec };
export { FS_MODULES };

/** What every stack mounts: the SFS layers and the union. */
const STACK_FILESYSTEMS = ["squashfs", "overlay"];

export class System {
  private readonly loadedFs = new Set<string>();
  /** Mount points and opened LUKS containers this init made, in order: what a failed attempt unwinds. */
  private readonly made: ({ target: string } | { mapper: string })[] = [];
  constructor(
    readonly port: Port,
    private readonly log: BootLog,
  ) {}

  /** A point to unwind to. */
  mark(): number {
    return this.made.length;
  }

  /** Unmount, newest first, everything mounted since the mark (a failed boot attempt's mounts). */
  rollback(mark: number): void {
    for (const m of this.made.splice(mark).reverse()) {
      if ("mapper" in m) {
        this.act(`cryptsetup close ${m.mapper}`, () => this.port.luksClose(m.mapper), true);
        continue;
      }
      if (this.isMounted(m.target) && !this.umount(m.target)) this.detach(m.target);
    }
  }

  /**
   * Load a filesystem's modules the first time it is mounted. The stack's
   * own (loop, squashfs, overlay) come with the first of them: every boot
   * stacks, and each modprobe is a process start and a read of the module
   * indexes, a tenth of a second of an emulated boot.
   */
  private ensureFilesystem(fstype: string, loop: boolean): void {
    const wanted = [...(loop ? this.loopModule() : []), ...this.modulesFor(fstype)];
    if (wanted.length) wanted.push(...this.loopModule(), ...STACK_FILESYSTEMS.flatMap((f) => this.modulesFor(f)));
    this.modprobe(wanted);
  }

  /** vfat's codepage= and iocharset= options need their nls modules (nls_cp850, nls_iso8859_2, …). */
  private charsetModules(options: readonly string[]): string[] {
    const wanted: string[] = [];
    for (const o of options) {
      const m = /^(?:codepage=(\d+)|iocharset=([\w-]+))$/.exec(o);
      const name = m?.[1] ? `nls_cp${m[1]}` : m?.[2] ? `nls_${m[2].replace(/-/g, "_")}` : null;
      if (!name || this.loadedFs.has(name)) continue;
      this.loadedFs.add(name);
      if (!this.moduleLoaded(name)) wanted.push(name);
    }
    return wanted;
  }

  /** loop, unless loaded already (or asked for before). */
  private loopModule(): string[] {
    if (this.loadedFs.has("loop")) return [];
    this.loadedFs.add("loop");
    return this.moduleLoaded("loop") ? [] : ["loop"];
  }

  /** The modules a filesystem needs, unless the kernel knows it already (or they were asked for before). */
  private modulesFor(fstype: string): string[] {
    if (this.loadedFs.has(fstype)) return [];
    this.loadedFs.add(fstype);
    const name = KERNEL_FS_NAME[fstype] ?? fstype;
    const known = (this.port.readText("/proc/filesystems") ?? "")
      .split("\n")
      .some((l) => l.trim().split(/\s+/).pop() === name);
    const m = FS_MODULES[fstype];
    return !known && m ? [...m.with, m.module] : [];
  }

  /** Log an action and do it; a failure is logged, then thrown (or, allowed, returned as false). */
  private act<T>(what: string, fn: () => T, allowFail = false): T | false {
    this.log.debug(`# ${what}`);
    try {
      return fn();
    } catch (e) {
      const msg = (e as Error).message;
      this.log.debug(`  -> ${msg}`);
      if (!allowFail) throw e;
      return false;
    }
  }

  mount(m: MountSpec): void {
    this.port.mkdir(m.target);
    this.ensureFilesystem(m.fstype, m.options?.includes("loop") ?? false);
    this.modprobe(this.charsetModules(m.options ?? []));
    this.act(
      `mount -t ${m.fstype}${m.options?.length ? ` -o ${m.options.join(",")}` : ""} ${m.source} ${m.target}`,
      () => this.port.mount(m),
    );
    // A remount changes a mount this attempt made already: nothing new to unwind.
    if (!m.options?.includes("remount")) this.made.push({ target: m.target });
  }

  /** Mount, or return the error text instead of throwing. */
  tryMount(m: MountSpec): string | null {
    try {
      this.mount(m);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** Loop-mount an image file read-only (SFS, ISO) or read-write (save file). */
  mountImage(file: string, target: string, fstype: string, readOnly: boolean): void {
    this.mount({ fstype, source: file, target, options: ["loop", readOnly ? "ro" : "rw", "noatime"] });
  }

  bind(source: string, target: string, o: { readOnly?: boolean } = {}): void {
    this.port.mkdir(target);
    const wasMounted = this.isMounted(target);
    let done = false;
    try {
      this.act(`mount -o bind${o.readOnly ? ",ro" : ""} ${source} ${target}`, () =>
        this.port.bind(source, target, o.readOnly ?? false),
      );
      done = true;
    } finally {
      // A failed read-only remount leaves the bind made: it is unwound with the rest of the attempt.
      if (done || (!wasMounted && this.isMounted(target))) this.made.push({ target });
    }
  }

  /** Move mounts, in order (in one shell on Node): [source, target] pairs; what an attempt unwinds follows them. */
  moveAll(moves: readonly (readonly [string, string])[]): void {
    if (moves.length === 0) return;
    for (const [, target] of moves) this.port.mkdir(target);
    this.act(moves.map(([a, b]) => `mount -o move ${a} ${b}`).join("; "), () => this.port.move(moves));
    for (const [source, target] of moves)
      for (const m of this.made) if ("target" in m && m.target === source) m.target = target;
  }

  /** Move one mount. Returns the new place. */
  move(source: string, target: string): string {
    this.moveAll([[source, target]]);
    return target;
  }

  umount(target: string): boolean {
    return this.act(`umount ${target}`, () => this.port.umount(target), true) === true;
  }

  /** umount -l: out of the tree now, unmounted when its last user lets go. */
  detach(target: string): boolean {
    return this.act(`umount -l ${target}`, () => this.port.umount(target, true), true) === true;
  }

  /** Load modules; names that do not resolve are logged, not fatal. */
  modprobe(names: readonly string[], o: { leaveLoading?: boolean } = {}): void {
    if (names.length === 0) return;
    this.act(`modprobe -a -q ${names.join(" ")}`, () => this.port.modprobe(names, o), true);
  }

  /**
   * modprobe -a -q at the lowest priority, not waited for: drivers the boot
   * does not need. It goes on after the switch, in the initramfs's root
   * (the init's child: the system's init reaps it), so what it uses stays
   * until it is done: `modulesDir` stays mounted and the initramfs keeps
   * busybox (the switch deletes the rest); then it unmounts the one
   * (lazily: another reader may still hold it) and deletes the other.
   */
  modprobeInBackground(names: readonly string[], modulesDir: string): void {
    const bb = BACKGROUND_BUSYBOX;
    const job = `${bb} ${commandLine("modprobe", ["-a", "-q", ...names])}; ${bb} umount -l ${modulesDir}; ${bb} rm -f ${bb}`;
    // Nice 19 from its first instruction: start-stop-daemon sets it and execs the job's sh (this busybox has no
    // nice), and the init does not wait. A shell that reniced itself started three processes at the init's
    // priority, just as the init was about to exec the system's. The pidfile is never written: with it, no
    // running busybox counts as the job already started.
    const args = ["start-stop-daemon", "-S", "-q", "-p", BACKGROUND_NEVER_PIDFILE, "-N", "19", "-x", bb, "--"];
    const argv = [...args, "sh", "-c", job];
    if (this.act(`${commandLine(bb, argv)} &`, () => this.port.start(bb, argv) > 0, true) === true) {
      this.leftToBackground.add(modulesDir);
      this.leftToBackground.add(bb);
    }
  }

  private readonly leftToBackground = new Set<string>();

  /** Whether a background job unmounts this when it is done with it. */
  unmountedInBackground(target: string): boolean {
    return this.leftToBackground.has(target);
  }

  /** Whether a module is in the kernel (loaded, or built in with a /sys/module entry). */
  moduleLoaded(name: string): boolean {
    return this.port.moduleLoaded(name);
  }

  /**
   * Load modules the initrd does not carry from a mounted stack (its zdrv),
   * as Puppy does for pimod and initmodules.txt: the stack's module tree and
   * firmware are bound over the initrd's while modprobe runs. Returns the
   * names still not loaded.
   */
  modprobeFrom(root: string, names: readonly string[]): string[] {
    const binds = ["/lib/modules", "/lib/firmware"].filter((d) => this.port.stat(`${root}${d}`) !== null);
    if (!binds.includes("/lib/modules")) return names.filter((n) => !this.moduleLoaded(n));
    const bound: string[] = [];
    try {
      for (const d of binds) {
        this.port.mkdir(d);
        if (this.act(`mount -o bind ${root}${d} ${d}`, () => this.port.bind(`${root}${d}`, d, false), true) !== false)
          bound.push(d);
      }
      for (const n of names) this.act(`modprobe -q ${n}`, () => this.port.modprobe([n]), true);
    } finally {
      for (const d of bound.reverse()) this.umount(d);
    }
    return names.filter((n) => !this.moduleLoaded(n));
  }

  /** e2fsck -p (the initrd's, from the runtime); its exit status: 0 clean, 1-3 repaired, 4 and up not repaired. */
  fsck(target: string): number {
    this.log.debug(`# e2fsck -p ${target}`);
    const r = this.port.fsck(target);
    if (r.output) this.log.debug(r.output);
    return r.status;
  }

  /** Open a LUKS save file as /dev/mapper/NAME; false when the password is wrong. */
  openLuks(file: string, name: string, password: string): boolean {
    if (!this.loadedFs.has("dm_crypt")) {
      this.loadedFs.add("dm_crypt");
      this.modprobe(["loop", ...LUKS_MODULES]);
    }
    this.log.debug(`# cryptsetup open ${file} ${name} (password on a pipe)`);
    const opened = this.port.luksOpen(file, name, password);
    if (opened) this.made.push({ mapper: name });
    else this.log.debug("  -> the password does not open any key slot");
    return opened;
  }

  /** Run one of the runtime's programs (tar, …); the init's environment already points at the runtime's libraries. */
  tool(name: string, args: string[]): void {
    this.act(`${name} ${args.join(" ")}`, () => this.port.tool(name, args));
  }

  /** Load a gzipped busybox keymap (/lib/keymaps/NAME.gz) into the console; the error text, or null. */
  loadKeymap(file: string): string | null {
    this.log.debug(`# busybox zcat ${file} | busybox loadkmap`);
    return this.port.loadKeymap(file);
  }

  copyFile(source: string, target: string): void {
    this.act(`cp ${source} ${target}`, () => this.port.copyFile(source, target));
  }

  /**
   * Copy a directory, with modes, owners, times and links, into another,
   * merging with what is there; -f replaces what cannot be written over
   * (an older session's whiteout, a 0:0 device, under a newer file).
   */
  copyTree(source: string, intoDir: string): void {
    this.act(`cp -af ${source} ${intoDir}`, () => this.port.copyTree(source, intoDir));
  }

  /** An overlay whiteout (a 0:0 character device): hides the path in the layers below. */
  whiteout(path: string): void {
    this.act(`mknod ${path} c ${WHITEOUT_DEV.major} ${WHITEOUT_DEV.minor}`, () =>
      this.port.mknodChar(path, WHITEOUT_DEV.major, WHITEOUT_DEV.minor),
    );
  }

  /** Called before the console waits for the user (a question, a password, a shell): the init loads a keyboard's drivers. */
  beforeInput: () => void = () => undefined;

  shell(message: string): void {
    this.log.console(message);
    this.beforeInput();
    this.port.shell();
  }

  /** Mount points currently mounted, in mount order. */
  mounts(): MountEntry[] {
    return this.port.mounts();
  }

  isMounted(target: string): boolean {
    return this.mounts().some((m) => m.target === target);
  }

  /**
   * Replace this process (PID 1) with the system's init in the new root, as
   * busybox switch_root does: the initramfs's files are deleted to free
   * their RAM (all but /tmp, the log, should the last steps fail: the
   * running system has its own engine and tools in the main SFS), the new
   * root is moved over /, and the init is exec'd inside it. Only the port's
   * own calls are used once the files are gone.
   */
  switchRoot(newRoot: string, init: string): never {
    if (this.port.stat(`${newRoot}${init}`) === null && this.port.stat(`${newRoot}/sbin/init`) === null)
      throw new Error(`${init} is missing in the new root`);
    const keep = [...KEPT_IN_INITRAMFS, ...this.leftToBackground];
    this.log.debug(`# switch_root ${newRoot} ${init} (keeping ${keep.join(", ")})`);
    // Read now: once in the new root, the initramfs's /tmp is out of sight.
    const tunables = savedBootTunables(this.port);
    const left = freeInitramfs(this.port, "/", newRoot, keep);
    this.log.debug(`# the initramfs freed: ${left} entries left (${keep.join(", ")}, mounts)`);
    this.port.chdir(newRoot);
    this.act(`mount -o move . /`, () => this.port.moveCwdToRoot());
    this.act(`chroot .`, () => this.port.chroot("."));
    this.port.chdir("/");
    // After the initramfs is freed (its pages go to the free lists), before the system's init loads anything.
    const failed = restoreBootTunables(this.port, tunables);
    if (failed.length) this.log.console(`Warning: the kernel keeps the boot's settings for ${failed.join(", ")}`);
    return this.port.execve(init, [init], { PATH: "/sbin:/bin:/usr/sbin:/usr/bin", TERM: "linux" });
  }
}

/** What stays of the initramfs: /tmp (the log), should the last steps fail. */
const KEPT_IN_INITRAMFS = ["/tmp"];
/** The initramfs's busybox, by its full path: a background job that outlives the switch finds it there. */
const BACKGROUND_BUSYBOX = "/bin/busybox";
/** A pidfile no one writes: start-stop-daemon then matches no running process (it would skip its start). */
const BACKGROUND_NEVER_PIDFILE = "/tmp/background-drivers.none";

/**
 * Delete the initramfs's files under `root`, as switch_root does, but not
 * `keep` and nothing on another filesystem (the new root, whatever is
 * mounted): the port deletes only entries on the same device as `root`.
 * The number of entries left behind.
 */
export function freeInitramfs(port: Port, root: string, newRoot: string, keep: readonly string[]): number {
  const rootDev = port.stat(root)?.dev;
  if (rootDev === undefined || port.stat(newRoot)?.dev === rootDev)
    throw new Error(`${newRoot} is not a mounted filesystem`);
  return port.removeContents(root, [...keep, newRoot]);
}
