// The init's one port to the machine: mounts, loop devices, modules and the
// final switch_root. Everything goes through sys/exec so a failure names the
// command and what it printed; every call is logged.

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { run } from "../sys/exec.js";
import type { BootLog } from "./bootlog.js";

export interface MountSpec {
  fstype: string;
  source: string;
  target: string;
  options?: string[];
}

export class System {
  constructor(private readonly log: BootLog) {}

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

  mount(m: MountSpec): void {
    mkdirSync(m.target, { recursive: true });
    const opts = m.options?.length ? ["-o", m.options.join(",")] : [];
    this.cmd(["mount", "-t", m.fstype, ...opts, m.source, m.target]);
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

  bind(source: string, target: string): void {
    mkdirSync(target, { recursive: true });
    this.cmd(["mount", "-o", "bind", source, target]);
  }

  move(source: string, target: string): void {
    mkdirSync(target, { recursive: true });
    this.cmd(["mount", "-o", "move", source, target]);
  }

  umount(target: string): boolean {
    return this.cmd(["umount", target], true).ok;
  }

  /** Load modules; names that do not resolve are logged, not fatal. */
  modprobe(names: readonly string[]): void {
    if (names.length === 0) return;
    this.cmd(["modprobe", "-a", "-q", ...names], true);
  }

  copyFile(source: string, target: string): void {
    this.cmd(["cp", source, target]);
  }

  shell(message: string): void {
    this.log.console(message);
    run("/bin/sh", [], { inherit: true, allowFail: true });
  }

  /** Mount points currently mounted, in mount order. */
  mounts(): { source: string; target: string; fstype: string }[] {
    return readFileSync("/proc/mounts", "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [source = "", target = "", fstype = ""] = l.split(" ");
        return { source, target: target.replace(/\\040/g, " "), fstype };
      });
  }

  isMounted(target: string): boolean {
    return this.mounts().some((m) => m.target === target);
  }

  /** Replace this process (PID 1) with busybox switch_root. */
  switchRoot(newRoot: string, init: string): never {
    if (!existsSync(`${newRoot}${init}`) && !existsSync(`${newRoot}/sbin/init`))
      throw new Error(`${init} is missing in the new root`);
    this.log.debug(`# switch_root ${newRoot} ${init}`);
    const execve = (process as unknown as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
    if (!execve) throw new Error("this Node.js has no process.execve (Node >= 22.15 is needed)");
    execve("/bin/busybox", ["switch_root", newRoot, init], { PATH: "/sbin:/bin:/usr/sbin:/usr/bin", TERM: process.env.TERM ?? "linux" });
    throw new Error("process.execve returned");
  }
}
