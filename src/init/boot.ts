// The init's boot, on any port (main.ts runs it as PID 1 on Node.js; the
// host tests run it on the recording fake): find the frugal install with
// the same planner as `ramstack plan`, turn the plan into steps (ops.ts),
// perform them (execute.ts), fall back to RAM when the save cannot be used,
// and switch root into the layered system.

import { DEV_SAVE, PUP_LOOP } from "../plan/layout.js";
import { chooseLocale, vfatOptions } from "../plan/locale.js";
import { formatVars } from "../plan/handover.js";
import { parseParams } from "../plan/params.js";
import type { Answers } from "../plan/planner.js";
import { planBoot } from "../plan/planner.js";
import type { FileTree } from "../plan/tree.js";
import type { Plan, Question } from "../plan/types.js";
import { INITRD_MODULES_DIR } from "../port/commands.js";
import type { Port } from "../port/port.js";
import { listBlockDisks } from "../sys/blockdevs.js";
import { BootLog } from "./bootlog.js";
import type { Hooks, Outcome } from "./execute.js";
import { newOutcome, runSteps, SaveError } from "./execute.js";
import { translator } from "./messages.js";
import { bootSteps, NEW_ROOT, switchSteps } from "./ops.js";
import { aliasBuses, deviceAliases, driverBuses, initrdFacts, MountedTree, probeMachine } from "./probe.js";
import { System } from "./system.js";
import { setUpInitrd } from "./initrd-setup.js";
import { CARD, planCardGrowth } from "./grow-card.js";

const POLL_MS = 100;
/** PCI devices whose drivers may lead to the boot's disks: storage (01), keyboards (09), USB (0c03) and SD hosts (0805). */
const BOOT_PCI_CLASS = /bc(?:01|09)sc|bc0csc03|bc08sc05/i;
/** How long the head start's modprobe may load drivers before a device still missing counts as late (waitdev). */
const HEAD_START_WAIT_MS = 10_000;
/** An encrypted save's password prompt waits this long, then the boot goes on in RAM. */
const PASSWORD_TIMEOUT_SEC = 60;

export class Init {
  readonly log: BootLog;
  readonly sys: System;
  private readonly mounted = new Map<string, string | null>();
  private readonly aliasesDone = new Set<string>();
  private readonly started: number;
  /** The user's answers to the plan's questions (several saves, a save of another version). */
  private readonly answers: Answers = {};
  /** vfat's mount options, with the codepage of the keyboard the command line asks for (as Puppy's). */
  private vfat = vfatOptions(null).split(",");

  /** `pollMs`: how long to sleep between looks for a missing device. */
  constructor(
    readonly port: Port,
    private readonly pollMs = POLL_MS,
  ) {
    this.started = port.now();
    this.log = new BootLog(port, "/tmp/bootinit.log");
    this.sys = new System(port, this.log);
    this.sys.beforeInput = () => this.driversForInput();
  }

  /**
   * Before the console waits for an answer: every controller's driver that
   * coldplug has not loaded yet (the boot's partitions may have been found
   * before it got to them), and the devices behind them, so that a USB
   * keyboard answers.
   */
  private driversForInput(): void {
    try {
      while (this.coldplug());
    } catch (e) {
      // The question or the shell comes all the same.
      this.log.debug(`drivers before input: ${(e as Error).message}`);
    }
  }

  /** Mount a partition (or an ISO file, read-only) at /mnt/NAME on first use; null when it cannot be mounted. */
  readonly mountPartition = (name: string, fstype: string, imageFile?: string): string | null => {
    const known = this.mounted.get(name);
    if (known !== undefined) return known === null ? null : this.whereNow(name, known);
    const target = `/mnt/${name}`;
    const err = imageFile
      ? this.sys.tryMount({ fstype, source: imageFile, target, options: ["loop", "ro"] })
      : this.sys.tryMount({
          fstype,
          source: `/dev/${name}`,
          target,
          options: fstype === "vfat" ? this.vfat : ["noatime"],
        });
    if (err) this.log.console(`Cannot mount ${name} (${fstype}): ${err}`);
    const result = err ? null : target;
    this.mounted.set(name, result);
    return result;
  };

  /** Where a partition mounted at `at` is now: the save's is moved to /mnt/dev_save. */
  private whereNow(name: string, at: string): string {
    if (at !== DEV_SAVE && this.sys.isMounted(at)) return at;
    const now = this.sys.mounts().find((m) => m.source === `/dev/${name}`)?.target ?? at;
    this.mounted.set(name, now);
    return now;
  }

  private aliasBuses: Set<string> | undefined;
  /**
   * Time spent idle waiting for devices, which waitdev bounds. Loading
   * drivers is work, not waiting: on a slow machine it must not use up the
   * time a device (an SD card behind the driver just loaded) needs to appear.
   */
  private waitedMs = 0;

  private disks(): ReturnType<typeof listBlockDisks> {
    return listBlockDisks({ sys: "/sys", dev: "/dev" }, this.port);
  }

  /**
   * Load drivers for devices not seen yet, a round at a time; true when
   * something was loaded (the disks are looked at again before the next).
   *
   * - Devices on buses other than PCI (virtio, USB, MMC, a board's
   *   device-tree devices) first, all at once: they are the disks
   *   themselves, or their cards and hubs. The head start's modprobe
   *   has the device-tree ones too: a driver it is loading is left to it.
   * - Then the PCI controllers that may lead to the boot's disks (storage,
   *   USB, SD hosts, keyboards), one driver per round, the one with the
   *   fewest bytes to load first: once the boot's partitions are found,
   *   the rest are loaded in the background (startLeftDrivers), and a
   *   disk controller with no disk behind it costs the boot nothing.
   * - Other PCI devices (bridges, video, sound, network) are left for then.
   */
  coldplug(): boolean {
    const a = this.newAliases();
    if (a.buses.length) {
      this.sys.modprobe(a.buses, { leaveLoading: true });
      for (const x of a.buses) this.aliasesDone.add(x);
      return true;
    }
    if (a.controllers.length === 0) return false;
    const bytes = new Map(a.controllers.map((x) => [x, this.port.moduleLoadBytes([x])]));
    const next = [...a.controllers].sort((x, y) => bytes.get(x)! - bytes.get(y)! || (x < y ? -1 : 1))[0]!;
    this.aliasesDone.add(next);
    this.sys.modprobe([next], { leaveLoading: true });
    return true;
  }

  /** The devices' aliases not dealt with yet, by who loads their drivers and when. */
  private newAliases(): { buses: string[]; controllers: string[]; later: string[] } {
    // Only buses the initrd has drivers for (pci, usb, virtio, …): modprobe skips matching the rest (acpi, platform, …).
    // From the port's module index when it has one (read once, for modprobe too), else from modules.alias.
    const fromIndex = this.aliasBuses ? null : this.port.moduleAliasBuses();
    this.aliasBuses ??= fromIndex
      ? driverBuses(fromIndex)
      : aliasBuses(this.port.readText(`/lib/modules/${this.port.kernelRelease()}/modules.alias`) ?? "");
    const out = { buses: [] as string[], controllers: [] as string[], later: [] as string[] };
    for (const x of deviceAliases("/sys", this.aliasBuses, this.port)) {
      if (this.aliasesDone.has(x)) continue;
      if (!this.aliasBuses.has(x.slice(0, x.indexOf(":")))) this.aliasesDone.add(x);
      else if (!x.startsWith("pci:")) out.buses.push(x);
      else (BOOT_PCI_CLASS.test(x) ? out.controllers : out.later).push(x);
    }
    return out;
  }

  /**
   * The drivers of the devices the boot did not need (left for later by
   * coldplug), loaded in the background at the lowest priority: they end
   * in the new system, where the initrd's driver image they read goes
   * with the last of them.
   */
  private startLeftDrivers(): void {
    const a = this.newAliases();
    const left = [...a.controllers, ...a.later];
    if (left.length === 0) return;
    for (const x of left) this.aliasesDone.add(x);
    this.sys.modprobeInBackground(left, INITRD_MODULES_DIR);
  }

  /** The head start's modprobe (initrd-setup.ts), 0 when none was started. */
  private headStartPid = 0;
  private headStartEnded = false;

  /**
   * Whether the head start's modprobe still runs. A process that has ended
   * but not been reaped (this init is its parent) is a zombie, which counts
   * as ended.
   */
  private headStartRunning(): boolean {
    if (this.headStartEnded) return false;
    const pid = this.headStartPid;
    // The state is the field after the command's "(name)", which may itself hold spaces or parentheses.
    const stat = pid ? (this.port.readText(`/proc/${pid}/stat`) ?? "") : "";
    const state = stat.slice(stat.lastIndexOf(")") + 2).charAt(0);
    this.headStartEnded = state === "" || state === "Z" || state === "X";
    return !this.headStartEnded;
  }

  private cardChecked = false;

  /**
   * The first time the card (mmcblk0) is seen, before anything on it is
   * mounted: grow its last partition and that filesystem to fill it
   * (grow-card.ts). True when its partitions changed. Whatever fails, the
   * boot goes on with the card as it was.
   */
  private async growCard(disks: ReturnType<typeof listBlockDisks>): Promise<boolean> {
    const card = disks.find((d) => d.name === CARD);
    if (this.cardChecked || !card || card.partitions.length === 0) return false;
    this.cardChecked = true;
    const dev = `/dev/${CARD}`;
    const mbr = this.port.readAt(dev, 0, 512);
    const sectors = Number(this.port.readText(`/sys/block/${CARD}/size`) ?? 0);
    const partName = (n: number): string => `${CARD}p${n}`;
    const growth = planCardGrowth(mbr ?? new Uint8Array(), sectors, (n) => {
      return card.partitions.find((p) => p.name === partName(n))?.id?.fstype ?? "";
    });
    if (typeof growth === "string") {
      this.log.debug(`${CARD} is not grown: ${growth}`);
      return false;
    }
    const name = partName(growth.partition);
    const mib = (s: number): string => `${Math.floor(s / 2048)} MiB`;
    this.log.console(`Growing ${name} to fill the card: ${mib(growth.oldSectors)} -> ${mib(growth.newSectors)}`);
    const old = mbr!.slice(growth.sizeOffset, growth.sizeOffset + 4);
    try {
      this.port.writeAt(dev, growth.sizeOffset, growth.sizeBytes);
      if (!this.port.rereadPartitions(dev)) throw new Error("the kernel did not take the new partition table");
    } catch (e) {
      // The table as it was: the partition keeps its size and everything on it.
      try {
        this.port.writeAt(dev, growth.sizeOffset, old);
        this.port.rereadPartitions(dev);
      } catch {
        // The write itself failed: the old table is still there.
      }
      this.log.console(`Warning: ${name} was not grown (${(e as Error).message}); it keeps its size`);
      return false;
    }
    // The kernel drops the card's partitions and adds them again: wait until every one is back.
    const names = card.partitions.map((p) => p.name);
    for (let waited = 0; waited < 5000; waited += this.pollMs) {
      const again = this.disks().find((d) => d.name === CARD);
      const back = again && names.every((n) => again.partitions.some((p) => p.name === n && p.id));
      if (back && names.every((n) => this.port.stat(`/dev/${n}`))) break;
      await this.port.sleep(this.pollMs);
    }
    const fstype = card.partitions.find((p) => p.name === name)!.id!.fstype;
    const at = this.mountPartition(name, fstype);
    try {
      if (!at) throw new Error("it did not mount");
      this.port.growExt(at, `/dev/${name}`, growth.newSectors * 512);
      this.log.console(`${name} now fills the card (${mib(growth.newSectors)})`);
    } catch (e) {
      this.log.console(
        `Warning: ${name} was grown but its filesystem was not (${(e as Error).message}); it keeps its files and its size`,
      );
    }
    return true;
  }

  /** The planner on the machine as it is now (partitions read through their mounts). */
  private planNow(
    cmdline: string,
    answers: Answers,
    disks = this.disks(),
    unlocked?: { partition: string; path: string },
  ): Plan {
    const machine = probeMachine(disks, "/", this.port);
    // An encrypted save, once open, is read through its filesystem's mount.
    const image =
      (partition: string) =>
      (path: string): FileTree | undefined =>
        unlocked && unlocked.partition === partition && unlocked.path === path
          ? new MountedTree("unlocked-save", "ext4", () => PUP_LOOP, undefined, undefined, this.port)
          : undefined;
    return planBoot({
      machine,
      cmdline,
      answers,
      treeFor: (p) => new MountedTree(p.name, p.fstype, this.mountPartition, undefined, image(p.name), this.port),
    });
  }

  /** Plan, waiting (up to waitdev seconds) while devices the plan needs are missing. */
  async plan(cmdline: string): Promise<Plan> {
    let lastDevices = "";
    let plan: Plan | null = null;
    let loaded = false;
    for (;;) {
      // Each listing reads every partition's superblock: once per look.
      let disks = this.disks();
      // No disk at all: there is nothing to plan with yet, so drivers first (their controllers bring the disks).
      if (disks.length === 0 && this.coldplug()) continue;
      if (await this.growCard(disks)) disks = this.disks();
      const key = JSON.stringify(disks);
      if (plan === null || key !== lastDevices || loaded) {
        lastDevices = key;
        plan = this.planNow(cmdline, this.answers, disks);
      }
      if (plan.pending.length === 0) return plan;
      // A round of drivers, then another look: each may bring disks, or buses with devices of their own (virtio,
      // USB). Until there are no more to try, the devices are not late.
      loaded = this.coldplug();
      if (loaded) continue;
      if (this.waitedMs / 1000 >= plan.waitdev) {
        this.log.console(`Gave up waiting after ${plan.waitdev} s for: ${plan.pending.join(", ")}`);
        return plan;
      }
      await this.port.sleep(this.pollMs);
      // While the head start's modprobe loads drivers (for a while at most), the devices are not late yet.
      if (!this.headStartRunning() || this.port.now() - this.started >= HEAD_START_WAIT_MS)
        this.waitedMs += this.pollMs;
    }
  }

  async boot(): Promise<void> {
    this.headStartPid = setUpInitrd(this.port, this.log);
    const given = (this.port.readText("/proc/cmdline") ?? "").trim();
    this.log.debug(`cmdline: ${given}`);
    // Where the time before the init's first line went: the kernel, then the runtime's own start.
    const setUp = (this.port.now() - this.started) / 1000;
    const uptime = Number((this.port.readText("/proc/uptime") ?? "0").split(" ")[0]) - setUp;
    const sinceExec = this.port.processUptime() - setUp;
    this.log.debug(
      `started at ${uptime.toFixed(2)} s of uptime, ${sinceExec.toFixed(2)} s after the runtime's exec; set up in ${setUp.toFixed(2)} s`,
    );
    let cmdline = given;
    const p = parseParams(given).params;
    this.vfat = vfatOptions(chooseLocale(p.plang, p.pkeys, initrdFacts("/", this.port)).codepage).split(",");
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
        await this.run(plan, cmdline);
      } catch (e) {
        this.sys.rollback(mark);
        // The save's partition goes back to its own name: the next attempt may not use it as the save.
        const atDevSave = this.sys.mounts().find((m) => m.target === DEV_SAVE);
        const name = atDevSave && /^\/dev\/(.+)$/.exec(atDevSave.source)?.[1];
        if (name) this.mounted.set(name, this.sys.move(DEV_SAVE, `/mnt/${name}`));
        // A partition the attempt mounted (or remounted after e2fsck) is mounted again when next read.
        for (const [n, target] of this.mounted)
          if (target !== null && !this.sys.isMounted(target)) this.mounted.delete(n);
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
    this.driversForInput();
    const t = this.log.translate;
    const menu = [t(q.prompt), ...q.options.map((o) => `  ${o.value}) ${t(o.label)}`)].join("\n");
    const a = this.port.ask(`${menu}\n${t(`Choice [${q.default}] (${q.timeoutSec} s): `)}`, q.timeoutSec);
    const known = a !== null && q.options.some((o) => o.value === a);
    const answer = known ? a : q.default;
    this.log.console(
      a === null
        ? `No answer in ${q.timeoutSec} s: ${answer}`
        : known
          ? `Answer: ${answer}`
          : `'${a}' is not a choice: ${answer}`,
    );
    return answer;
  }

  /**
   * An encrypted save, open at /pup_loop: the plan made again with its files
   * readable decides its version, and asks when it is another one.
   */
  private checkUnlockedSave(plan: Plan, cmdline: string): ReturnType<Hooks["checkUnlockedSave"]> {
    const unlocked = { partition: plan.save.partition!, path: plan.save.path! };
    const answers: Answers = { ...this.answers, saveUnlocked: true };
    let again = this.planNow(cmdline, answers, this.disks(), unlocked);
    const q = again.questions.find((x) => x.id === "upgrade");
    if (q) {
      answers.upgrade = this.askQuestion(q);
      again = this.planNow(cmdline, answers, this.disks(), unlocked);
    }
    this.log.debug(`upgrade: ${again.upgrade.reason}`);
    const kept =
      again.save.partition === unlocked.partition && again.save.path === unlocked.path && again.pupmode !== 5;
    return kept ? { use: true, upgrade: again.upgrade } : { use: false, reason: again.upgrade.reason };
  }

  private async run(plan: Plan, cmdline: string): Promise<void> {
    const outcome: Outcome = newOutcome();
    const hooks: Hooks = {
      password: (prompt) => {
        this.driversForInput();
        return this.port.ask(this.log.translate(prompt), PASSWORD_TIMEOUT_SEC, { silent: true });
      },
      checkUnlockedSave: () => this.checkUnlockedSave(plan, cmdline),
    };
    const ctx = { sys: this.sys, port: this.port, log: this.log, hooks, plan, outcome };
    runSteps(ctx, bootSteps(plan, formatVars));
    // What the running system finds of this boot: the plan, unchanged, and what happened.
    const json =
      JSON.stringify({ plan, outcome, bootSeconds: (this.port.now() - this.started) / 1000 }, null, 2) + "\n";
    this.port.writeText(`${NEW_ROOT}/initrd/tmp/bootinit.json`, json);
    const last = switchSteps(plan);
    // The log the running system sees is the copy under /initrd/tmp; keep it whole up to the switch.
    this.log.console(
      `Switching to the layered root (${((this.port.now() - this.started) / 1000).toFixed(2)} s in the init)`,
    );
    this.startLeftDrivers();
    if (this.headStartRunning())
      this.log.debug(
        "the head start's modprobe still runs: it ends in the new system; the initrd's driver image it reads is detached, and goes with it",
      );
    const status = this.port.readText("/proc/self/status") ?? "";
    const kib = (k: string): string => new RegExp(`^${k}:\\s*(\\d+ kB)`, "m").exec(status)?.[1] ?? "?";
    this.log.debug(`the init's memory at the switch: ${kib("VmRSS")} (at most ${kib("VmHWM")})`);
    this.port.writeText(`${NEW_ROOT}/initrd/tmp/bootinit.log`, this.port.readText(this.log.file) ?? "");
    runSteps(ctx, last);
  }
}
