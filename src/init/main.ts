// PID 1 in the initramfs. A small sh stub mounts /proc, /sys and /dev, then
// execs this on the Node.js runtime unpacked in the initrd. It finds the
// frugal install with the same planner as `ramstack plan`, mounts the stack
// and switches root into it.

import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { DEV_SAVE } from "../plan/layout.js";
import { chooseLocale, vfatOptions } from "../plan/locale.js";
import { parseParams } from "../plan/params.js";
import type { Answers } from "../plan/planner.js";
import { planBoot } from "../plan/planner.js";
import type { Plan, Question } from "../plan/types.js";
import { listBlockDisks } from "../sys/blockdevs.js";
import { askOnConsole } from "../sys/console.js";
import { readTextIfAny } from "../sys/files.js";
import { BootLog } from "./bootlog.js";
import { translator } from "./messages.js";
import { checkFilesystems, handOver, markSessionOpen, mountStack, moveKernelMounts, NEW_ROOT, SaveError } from "./execute.js";
import { aliasBuses, deviceAliases, initrdFacts, MountedTree, probeMachine } from "./probe.js";
import { System } from "./system.js";

const POLL_MS = 100;
/** An encrypted save's password prompt waits this long, then the boot goes on in RAM. */
const PASSWORD_TIMEOUT_SEC = 60;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Init {
  readonly log = new BootLog("/tmp/bootinit.log");
  readonly sys = new System(this.log);
  private readonly mounted = new Map<string, string | null>();
  private readonly partitionFs = new Map<string, string>();
  private readonly aliasesDone = new Set<string>();
  private readonly started = Date.now();
  /** The user's answers to the plan's questions (several saves, a save of another version). */
  private readonly answers: Answers = {};
  /** vfat's mount options, with the codepage of the keyboard the command line asks for (as Puppy's). */
  private vfat = vfatOptions(null).split(",");

  /** Mount a partition (or an ISO file, read-only) at /mnt/NAME on first use; null when it cannot be mounted. */
  readonly mountPartition = (name: string, fstype: string, imageFile?: string): string | null => {
    if (this.mounted.has(name)) return this.mounted.get(name)!;
    const target = `/mnt/${name}`;
    this.partitionFs.set(name, fstype);
    const err = imageFile
      ? this.sys.tryMount({ fstype, source: imageFile, target, options: ["loop", "ro"] })
      : this.sys.tryMount({ fstype, source: `/dev/${name}`, target, options: fstype === "vfat" ? this.vfat : ["noatime"] });
    if (err) this.log.console(`Cannot mount ${name} (${fstype}): ${err}`);
    const result = err ? null : target;
    this.mounted.set(name, result);
    return result;
  };

  private aliasBuses: Set<string> | undefined;
  /**
   * Time spent idle waiting for devices, which waitdev bounds. Loading
   * drivers is work, not waiting: on a slow machine it must not use up the
   * time a device (an SD card behind the driver just loaded) needs to appear.
   */
  private waitedMs = 0;

  /** Load drivers for devices not seen yet; true when something new was loaded. */
  coldplug(): boolean {
    // Only buses the initrd has drivers for (pci, usb, virtio, …): modprobe skips matching the rest (acpi, platform, …).
    this.aliasBuses ??= aliasBuses(readTextIfAny(`/lib/modules/${release()}/modules.alias`) ?? "");
    const fresh = deviceAliases("/sys", this.aliasBuses).filter((a) => !this.aliasesDone.has(a));
    for (const a of fresh) this.aliasesDone.add(a);
    const wanted = fresh.filter((a) => this.aliasBuses!.has(a.slice(0, a.indexOf(":"))));
    if (wanted.length) this.sys.modprobe(wanted);
    return wanted.length > 0;
  }

  /** Plan, waiting (up to waitdev seconds) while devices the plan needs are missing. */
  async plan(cmdline: string): Promise<Plan> {
    let lastDevices = "";
    let plan: Plan | null = null;
    for (;;) {
      // Drivers bring buses with devices of their own (PCI, then virtio or
      // USB): load round after round before looking, not once per poll.
      let loaded = false;
      while (this.coldplug()) loaded = true;
      const disks = listBlockDisks();
      const key = JSON.stringify(disks);
      if (plan === null || key !== lastDevices || loaded) {
        lastDevices = key;
        const machine = probeMachine(disks);
        plan = planBoot({ machine, cmdline, answers: this.answers, treeFor: (p) => new MountedTree(p.name, p.fstype, this.mountPartition) });
      }
      if (plan.pending.length === 0 || this.waitedMs / 1000 >= plan.waitdev) {
        if (plan.pending.length) this.log.console(`Gave up waiting after ${plan.waitdev} s for: ${plan.pending.join(", ")}`);
        return plan;
      }
      await sleep(POLL_MS);
      this.waitedMs += POLL_MS;
    }
  }

  async boot(): Promise<void> {
    const given = readFileSync("/proc/cmdline", "utf8").trim();
    this.log.debug(`cmdline: ${given}`);
    // Where the time before the init's first line went: the kernel and stub, then Node.js's own start.
    const uptime = Number((readTextIfAny("/proc/uptime") ?? "0").split(" ")[0]);
    this.log.debug(`started at ${uptime.toFixed(2)} s of uptime, ${process.uptime().toFixed(2)} s after node's exec`);
    let cmdline = given;
    const p = parseParams(given).params;
    this.vfat = vfatOptions(chooseLocale(p.plang, p.pkeys, initrdFacts("/")).codepage).split(",");
    for (;;) {
      const plan = await this.plan(cmdline);
      this.localize(plan);
      if (plan.questions.length && !plan.fatal) {
        this.ask(plan);
        continue;
      }
      for (const line of plan.log) this.log.debug(line);
      for (const w of plan.warnings) this.log.console(`Warning: ${w}`);
      if (plan.distro) this.log.console(`*** ${plan.distro.name} ${plan.distro.version} - PUPMODE ${plan.pupmode}`);
      if (plan.modules.length) this.sys.modprobe(plan.modules);
      const mark = this.sys.mark();
      try {
        if (plan.fatal) throw new Error(plan.fatal);
        this.run(plan);
      } catch (e) {
        this.sys.rollback(mark);
        // The save's partition goes back to its own name: the next attempt may not use it as the save.
        for (const [name, target] of this.mounted) if (target === DEV_SAVE && this.sys.isMounted(DEV_SAVE)) this.mounted.set(name, this.sys.move(DEV_SAVE, `/mnt/${name}`));
        // A partition the attempt mounted (or remounted after e2fsck) is mounted again when next read.
        for (const [name, target] of this.mounted) if (target !== null && !this.sys.isMounted(target)) this.mounted.delete(name);
        this.log.console(`*** ${(e as Error).message}`);
        if (e instanceof SaveError && cmdline === given) {
          // The safest mode: the session in RAM, the save left exactly as it was.
          this.log.console("*** Booting with the session in RAM (as with pfix=ram); the save is not touched.");
          cmdline = `${given} pfix=ram`;
          continue;
        }
        this.sys.shell("The boot cannot go on. A shell follows; 'exit' tries the boot again.");
        continue;
      }
    }
  }

  private localized = false;

  /** pkeys/plang: the keyboard layout (before any question) and the console's language, once. */
  private localize(plan: Plan): void {
    if (this.localized) return;
    this.localized = true;
    const t = translator(plan.lang);
    if (t) this.log.translate = t;
    if (plan.keymapFile) {
      const err = this.sys.loadKeymap(plan.keymapFile);
      this.log.console(err ? `Warning: the keymap ${plan.keymap} did not load: ${err}` : `Keyboard: ${plan.keymap}`);
    }
  }

  /** Ask the plan's questions on the console; no answer in time takes the safe default. */
  private ask(plan: Plan): void {
    for (const q of plan.questions) {
      const answer = this.askQuestion(q);
      if (q.id === "save-choice") this.answers.saveChoice = answer;
      else this.answers.upgrade = answer;
    }
  }

  /** One question as a menu; its default when the answer is late or not a choice. */
  private askQuestion(q: Question): string {
    const t = this.log.translate;
    const menu = [t(q.prompt), ...q.options.map((o) => `  ${o.value}) ${t(o.label)}`)].join("\n");
    const a = askOnConsole(`${menu}\n${t(`Choice [${q.default}] (${q.timeoutSec} s): `)}`, q.timeoutSec);
    const known = a !== null && q.options.some((o) => o.value === a);
    const answer = known ? a : q.default;
    this.log.console(a === null ? `No answer in ${q.timeoutSec} s: ${answer}` : known ? `Answer: ${answer}` : `'${a}' is not a choice: ${answer}`);
    return answer;
  }

  private run(plan: Plan): void {
    const ctx = {
      sys: this.sys,
      log: this.log,
      initrdRoot: "/",
      mountOf: (p: string) => this.requireMount(p),
      saveMountOf: (p: string) => this.saveMount(p),
      askPassword: (prompt: string) => askOnConsole(this.log.translate(prompt), PASSWORD_TIMEOUT_SEC, { silent: true }),
      askQuestion: (q: Question) => this.askQuestion(q),
    };
    checkFilesystems(ctx, plan, (part) => this.sys.mount({ fstype: this.partitionFs.get(part) ?? "auto", source: `/dev/${part}`, target: `/mnt/${part}`, options: ["noatime"] }));
    for (const f of plan.fsckFlags) {
      const [part, path] = f.split(":");
      rmSync(join(this.requireMount(part!), path!), { force: true });
    }
    const stacked = mountStack(ctx, plan);
    this.loadModulesFromStack(plan);
    markSessionOpen(ctx, plan);
    const json = JSON.stringify({ plan, bootSeconds: (Date.now() - this.started) / 1000 }, null, 2) + "\n";
    handOver(ctx, plan, stacked, json);
    if (plan.flags.rdsh) this.sys.shell("pfix=rdsh: a shell before switch_root; the new root is at /pup_new; 'exit' goes on with the boot.");
    moveKernelMounts(ctx);
    this.log.console(`Switching to the layered root (${((Date.now() - this.started) / 1000).toFixed(2)} s in the init)`);
    // The log the running system sees is the copy under /initrd/tmp; keep it whole.
    writeFileSync(join(NEW_ROOT, "initrd/tmp/bootinit.log"), readFileSync(this.log.file));
    const init = existsSync(join(NEW_ROOT, "sbin/init")) ? "/sbin/init" : "/init";
    this.sys.switchRoot(NEW_ROOT, init);
  }

  /** pimod / initmodules.txt modules the initrd does not carry come from the stack's zdrv, as in Puppy. */
  private loadModulesFromStack(plan: Plan): void {
    const missing = plan.modules.filter((m) => !this.sys.moduleLoaded(m));
    if (missing.length === 0) return;
    const left = this.sys.modprobeFrom(NEW_ROOT, missing);
    const loaded = missing.filter((m) => !left.includes(m));
    if (loaded.length) this.log.debug(`${plan.modulesFrom}: loaded from the layers: ${loaded.join(", ")}`);
    if (left.length) this.log.console(`Warning: ${plan.modulesFrom}: could not load ${left.join(", ")}`);
  }

  /** The save's partition is mounted once, at /mnt/dev_save (its mount is moved there), as Puppy's scripts expect. */
  private saveMount(name: string): string {
    const at = this.requireMount(name);
    if (at === DEV_SAVE) return at;
    const moved = this.sys.move(at, DEV_SAVE);
    this.mounted.set(name, moved);
    return moved;
  }

  private requireMount(name: string): string {
    const m = this.mounted.get(name);
    if (m) return m;
    throw new Error(`partition ${name} is not mounted`);
  }
}

const init = new Init();
init.boot().catch((e: unknown) => {
  init.log.console(`*** the init failed: ${(e as Error).stack ?? String(e)}`);
  init.sys.shell("A shell follows.");
});
