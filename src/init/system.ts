// The init's one port to the machine: mounts, loop devices, modules and the
// final switch_root. Everything goes through sys/exec so a failure names the
// command and what it printed; every call is logged.

import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { MountEntry } from "../plan/layout.js";
import { parseMounts } from "../plan/layout.js";
import { run, runAll } from "../sys/exec.js";
import { LUKS_MODULES, luksOpen } from "../sys/luks.js";
import { runtimeTool } from "../sys/runtime.js";
import type { BootLog } from "./bootlog.js";

export interface MountSpec {
  fstype: string;
  source: string;
  target: string;
  options?: string[];
}

/** The module that gives the kernel a filesystem, and what it needs but does not depend on (crc32c, code pages). */
export const FS_MODULES: Record<string, { module: string; with: string[] }> = {
  ext2: { module: "ext4", with: ["crc32c_generic", "crc32c_intel"] },
  ext3: { module: "ext4", with: ["crc32c_generic", "crc32c_intel"] },
  ext4: { module: "ext4", with: ["crc32c_generic", "crc32c_intel"] },
  vfat: { module: "vfat", with: ["nls_cp437", "nls_iso8859_1", "nls_ascii", "nls_utf8"] },
  exfat: { module: "exfat", with: ["nls_utf8"] },
  iso9660: { module: "isofs", with: [] },
  squashfs: { module: "squashfs", with: [] },
  overlay: { module: "overlay", with: [] },
  ntfs: { module: "ntfs3", with: [] },
  btrfs: { module: "btrfs", with: [] },
};

/** What every stack mounts: the SFS layers and the union. */
const STACK_FILESYSTEMS = ["squashfs", "overlay"];

/** The name /proc/filesystems uses for a filesystem. */
const KERNEL_FS_NAME: Record<string, string> = { iso9660: "iso9660", ntfs: "ntfs3" };

export class System {
  private readonly loadedFs = new Set<string>();
  /** Mount points and opened LUKS containers this init made, in order: what a failed attempt unwinds. */
  private readonly made: ({ target: string } | { mapper: string })[] = [];
  constructor(private readonly log: BootLog) {}

  /** A point to unwind to. */
  mark(): number {
    return this.made.length;
  }

  /** Unmount, newest first, everything mounted since the mark (a failed boot attempt's mounts). */
  rollback(mark: number): void {
    for (const m of this.made.splice(mark).reverse()) {
      if ("mapper" in m) {
        this.cmd([runtimeTool("cryptsetup").cmd, "close", m.mapper], true);
        continue;
      }
      if (this.isMounted(m.target) && !this.umount(m.target)) this.cmd(["umount", "-l", m.target], true);
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
    const known = readFileSync("/proc/filesystems", "utf8").split("\n").some((l) => l.trim().split(/\s+/).pop() === name);
    const m = FS_MODULES[fstype];
    return !known && m ? [...m.with, m.module] : [];
  }

  private cmd(args: string[], allowFail = false): { ok: boolean; out: string } {
    this.log.debug(`# ${args.join(" ")}`);
    const r = run(args[0]!, args.slice(1), { allowFail: true });
    const out = (r.stdout + r.stderr).trim();
    if (r.status !== 0) {
      this.log.debug(`  -> exit ${r.status}${out ? `: ${out}` : ""}`);
      if (!allowFail) throw new Error(`${args.join(" ")} failed (exit ${r.status})${out ? `: ${out}` : ""}`);
      return { ok: false, out };
    }
    return { ok: true, out };
  }

  /** Commands in one shell (one process start), logged one by one; the first that fails throws as cmd() does. */
  private cmdAll(commands: string[][]): void {
    if (commands.length === 1) {
      this.cmd(commands[0]!);
      return;
    }
    for (const c of commands) this.log.debug(`# ${c.join(" ")}`);
    const r = runAll(commands);
    if (r.failed === null) return;
    const failed = commands[r.failed]!.join(" ");
    this.log.debug(`  -> ${failed}: exit ${r.status}${r.output ? `: ${r.output}` : ""}`);
    throw new Error(`${failed} failed (exit ${r.status})${r.output ? `: ${r.output}` : ""}`);
  }

  mount(m: MountSpec): void {
    mkdirSync(m.target, { recursive: true });
    this.ensureFilesystem(m.fstype, m.options?.includes("loop") ?? false);
    this.modprobe(this.charsetModules(m.options ?? []));
    const opts = m.options?.length ? ["-o", m.options.join(",")] : [];
    this.cmd(["mount", "-t", m.fstype, ...opts, m.source, m.target]);
    this.made.push({ target: m.target });
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
    mkdirSync(target, { recursive: true });
    const bind = ["mount", "-o", "bind", source, target];
    // A bind takes the source's flags; read-only needs a remount of the bind.
    if (!o.readOnly) {
      this.cmd(bind);
      this.made.push({ target });
      return;
    }
    const wasMounted = this.isMounted(target);
    let done = false;
    try {
      this.cmdAll([bind, ["mount", "-o", "remount,bind,ro", target]]);
      done = true;
    } finally {
      // A failed remount leaves the bind made: it is unwound with the rest of the attempt.
      if (done || (!wasMounted && this.isMounted(target))) this.made.push({ target });
    }
  }

  /** Move mounts, in order, in one shell: [source, target] pairs. */
  moveAll(moves: readonly (readonly [string, string])[]): void {
    for (const [, target] of moves) mkdirSync(target, { recursive: true });
    if (moves.length) this.cmdAll(moves.map(([source, target]) => ["mount", "-o", "move", source, target]));
  }

  /** Move one mount; what a failed attempt unwinds follows it. Returns the new place. */
  move(source: string, target: string): string {
    this.moveAll([[source, target]]);
    for (const m of this.made) if ("target" in m && m.target === source) m.target = target;
    return target;
  }

  umount(target: string): boolean {
    return this.cmd(["umount", target], true).ok;
  }

  /** Load modules; names that do not resolve are logged, not fatal. */
  modprobe(names: readonly string[]): void {
    if (names.length === 0) return;
    this.cmd(["modprobe", "-a", "-q", ...names], true);
  }

  /** Whether a module is in the kernel (loaded, or built in with a /sys/module entry). */
  moduleLoaded(name: string): boolean {
    return existsSync(`/sys/module/${name.replace(/\.ko(\.\w+)?$/, "").replace(/^.*\//, "").replace(/-/g, "_")}`);
  }

  /**
   * Load modules the initrd does not carry from a mounted stack (its zdrv),
   * as Puppy does for pimod and initmodules.txt: the stack's module tree and
   * firmware are bound over the initrd's while modprobe runs. Returns the
   * names still not loaded.
   */
  modprobeFrom(root: string, names: readonly string[]): string[] {
    const binds = ["/lib/modules", "/lib/firmware"].filter((d) => existsSync(join(root, d)));
    if (!binds.includes("/lib/modules")) return names.filter((n) => !this.moduleLoaded(n));
    const bound: string[] = [];
    try {
      for (const d of binds) {
        mkdirSync(d, { recursive: true });
        if (this.cmd(["mount", "-o", "bind", join(root, d), d], true).ok) bound.push(d);
      }
      for (const n of names) this.cmd(["modprobe", "-q", n], true);
    } finally {
      for (const d of bound.reverse()) this.umount(d);
    }
    return names.filter((n) => !this.moduleLoaded(n));
  }

  /** e2fsck -p (the initrd's, from the runtime); its exit status: 0 clean, 1-3 repaired, 4 and up not repaired. */
  fsck(target: string): number {
    this.log.debug(`# e2fsck -p ${target}`);
    const t = runtimeTool("e2fsck");
    const r = run(t.cmd, ["-p", target], { env: t.env, allowFail: true });
    const out = (r.stdout + r.stderr).trim();
    if (out) this.log.debug(out);
    return r.status;
  }

  /** Open a LUKS save file as /dev/mapper/NAME; false when the password is wrong. */
  openLuks(file: string, name: string, password: string): boolean {
    if (!this.loadedFs.has("dm_crypt")) {
      this.loadedFs.add("dm_crypt");
      this.modprobe(["loop", ...LUKS_MODULES]);
    }
    this.log.debug(`# cryptsetup open ${file} ${name} (password on a pipe)`);
    const opened = luksOpen(file, name, password);
    if (opened) this.made.push({ mapper: name });
    else this.log.debug("  -> the password does not open any key slot");
    return opened;
  }

  /** Run one of the runtime's programs (tar, …); the init's environment already points at the runtime's libraries. */
  tool(name: string, args: string[]): void {
    this.cmd([runtimeTool(name).cmd, ...args]);
  }

  /** Load a gzipped busybox keymap (/lib/keymaps/NAME.gz) into the console; the error text, or null. */
  loadKeymap(file: string): string | null {
    const r = this.cmd(["sh", "-c", 'busybox zcat "$1" | busybox loadkmap', "sh", file], true);
    return r.ok ? null : r.out || "loadkmap failed";
  }

  copyFile(source: string, target: string): void {
    this.cmd(["cp", source, target]);
  }

  /**
   * Copy a directory, with modes, owners, times and links, into another,
   * merging with what is there; -f replaces what cannot be written over
   * (an older session's whiteout, a 0:0 device, under a newer file).
   */
  copyTree(source: string, intoDir: string): void {
    this.cmd(["cp", "-af", source, intoDir]);
  }

  /** An overlay whiteout (a 0:0 character device): hides the path in the layers below. */
  whiteout(path: string): void {
    this.cmd(["mknod", path, "c", "0", "0"]);
  }

  shell(message: string): void {
    this.log.console(message);
    run(BUSYBOX, ["sh"], { inherit: true, allowFail: true });
  }

  /** Mount points currently mounted, in mount order. */
  mounts(): MountEntry[] {
    return parseMounts(readFileSync("/proc/mounts", "utf8"));
  }

  isMounted(target: string): boolean {
    return this.mounts().some((m) => m.target === target);
  }

  /**
   * Replace this process (PID 1) with the system's init in the new root.
   * busybox switch_root would delete every file of the initramfs, the
   * runtime too, which the running system keeps at /initrd/runtime (a bind
   * of /runtime: its saver runs on it). So the same steps are taken here:
   * the initramfs's other files are deleted to free their RAM, the new root
   * is moved over /, and busybox chroot execs the init inside it.
   */
  switchRoot(newRoot: string, init: string): never {
    if (!existsSync(`${newRoot}${init}`) && !existsSync(`${newRoot}/sbin/init`))
      throw new Error(`${init} is missing in the new root`);
    const execve = (process as unknown as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
    if (!execve) throw new Error("this Node.js has no process.execve (Node >= 22.15 is needed)");
    this.log.debug(`# switch_root ${newRoot} ${init} (keeping ${KEPT_IN_INITRAMFS.join(", ")})`);
    freeInitramfs("/", newRoot, KEPT_IN_INITRAMFS);
    process.chdir(newRoot);
    this.cmd([BUSYBOX, "mount", "-o", "move", ".", "/"]);
    execve(BUSYBOX, ["chroot", ".", init], { PATH: "/sbin:/bin:/usr/sbin:/usr/bin", TERM: process.env.TERM ?? "linux" });
    throw new Error("process.execve returned");
  }
}

const BUSYBOX = "/bin/busybox";
/** What stays of the initramfs: the runtime, busybox for the last two steps, and /tmp (the log) should they fail. */
const KEPT_IN_INITRAMFS = ["/runtime", BUSYBOX, "/tmp"];

/**
 * Delete the initramfs's files under `root`, as switch_root does, but not
 * `keep` and nothing on another filesystem (the new root, whatever is
 * mounted): only entries on the same device as `root` are touched.
 */
export function freeInitramfs(root: string, newRoot: string, keep: readonly string[]): void {
  const rootDev = statSync(root).dev;
  if (statSync(newRoot).dev === rootDev) throw new Error(`${newRoot} is not a mounted filesystem`);
  const kept = new Set([...keep, newRoot]);
  const walk = (dir: string): boolean => {
    let empty = true;
    for (const name of readdirSync(dir)) {
      const path = dir === "/" ? `/${name}` : `${dir}/${name}`;
      try {
        const st = lstatSync(path);
        if (kept.has(path) || st.dev !== rootDev) {
          empty = false;
          continue;
        }
        if (st.isDirectory()) {
          if (walk(path)) rmdirSync(path);
          else empty = false;
        } else unlinkSync(path);
      } catch {
        // Best effort, like switch_root: what cannot go stays.
        empty = false;
      }
    }
    return empty;
  };
  walk(root);
}
