// Booting a ramstack system in QEMU: the command line for each kind of disk,
// a serial console that can be waited on, and commands run in the guest's
// shell with their output and exit status. QEMU is always killed in the end.

import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { StringDecoder } from "node:string_decoder";
import { join } from "node:path";
import { have, start } from "../sys/exec.js";
import { hostDebArch } from "../build/cache.js";
import type { Board } from "./boards.js";
import { BOARDS } from "./boards.js";

export type DiskBus = "virtio" | "ata" | "usb" | "nvme" | "sd" | "cd";
export const DISK_BUSES: readonly DiskBus[] = ["virtio", "ata", "usb", "nvme", "sd", "cd"];

export interface VmDisk {
  file: string;
  bus: DiskBus;
  readOnly?: boolean;
}

export interface VmOptions {
  /** The machine (default: a PC). */
  board?: Board;
  /** The device tree handed to the kernel (boards that need one). */
  dtb?: string;
  /** A kernel and initrd handed to QEMU; without them the first disk is booted by the firmware. */
  kernel?: string;
  initrd?: string;
  append?: string;
  disks: VmDisk[];
  /** SeaBIOS (QEMU's default) or OVMF. */
  firmware?: "bios" | "uefi";
  memMiB?: number;
  cpus?: number;
  /** A QMP socket, for unplugging disks while the guest runs. */
  qmp?: string;
  /** Mirror the console to this function as it arrives. */
  echo?: (text: string) => void;
  /** User-mode networking (the guest reaches what the host reaches), with host TCP ports forwarded to the guest's. */
  net?: { forwards: PortForward[] };
  /** A virtio-vga display (drawn by the guest's own software renderer; read back with Vm.screendump). */
  display?: boolean;
  /** With display: shown to VNC viewers at 127.0.0.1, display N (port 5900 + N). */
  vnc?: number;
  /** An Intel HD Audio card; what the guest plays is written to WAV (a file of this machine), or goes nowhere. */
  sound?: { wav?: string };
  /**
   * The emulated CPU model (default: "max" under TCG). Mesa's llvmpipe
   * crashes on QEMU 7.2's emulation of AVX2: a model without it, such as
   * "Nehalem", runs programs that draw with OpenGL.
   */
  cpu?: string;
}

/** A TCP port of the host (on 127.0.0.1 only) forwarded to a port of the guest. */
export interface PortForward {
  host: number;
  guest: number;
}

/** HOST:GUEST, both TCP ports. */
export function parseForward(text: string): PortForward | null {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  const ok = (n: number): boolean => n >= 1 && n <= 65535;
  if (!m || !ok(Number(m[1])) || !ok(Number(m[2]))) return null;
  return { host: Number(m[1]), guest: Number(m[2]) };
}

/** QEMU's arguments: TCG unless RAMSTACK_ACCEL says otherwise (KVM hangs on some hosts). */
export function qemuArgs(o: VmOptions): string[] {
  const board = BOARDS[o.board ?? "pc"];
  const name = o.board ?? "pc";
  // Another arch's machine is always emulated.
  const accel = board.arch === hostDebArch() ? (process.env.RAMSTACK_ACCEL ?? "tcg") : "tcg";
  if (board.fixedMemMiB !== null && o.memMiB !== undefined && o.memMiB !== board.fixedMemMiB)
    throw new VmError(`the ${name} board has ${board.fixedMemMiB} MiB of RAM, no other amount`);
  if (o.firmware && name !== "pc") throw new VmError(`the ${name} board boots the kernel it is given, not a firmware`);
  if (o.display && name !== "pc") throw new VmError(`a screen is emulated on the pc board only`);
  for (const d of o.disks)
    if (!board.buses.includes(d.bus))
      throw new VmError(`the ${name} board has no ${d.bus} disks (it has: ${board.buses.join(", ")})`);
  const cpu = o.cpu ?? (accel === "tcg" ? board.tcgCpu : "host");
  const args = [
    ...board.machine,
    "-accel",
    accel,
    ...(cpu ? ["-cpu", cpu] : []),
    "-m",
    String(board.fixedMemMiB ?? o.memMiB ?? 1024),
    "-smp",
    String(board.fixedCpus ?? o.cpus ?? 1),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    ...board.serial.flatMap((s) => ["-serial", s]),
    "-no-reboot",
  ];
  if (o.qmp) args.push("-qmp", `unix:${o.qmp},server=on,wait=off`);
  if (o.display) args.push("-device", "virtio-vga");
  if (o.display && o.vnc !== undefined) args.push("-vnc", `127.0.0.1:${o.vnc}`);
  if (o.sound)
    args.push(
      "-audiodev",
      o.sound.wav ? `wav,id=sound,path=${o.sound.wav}` : "none,id=sound",
      "-device",
      "intel-hda",
      "-device",
      "hda-output,audiodev=sound",
    );
  if (o.kernel) args.push("-kernel", o.kernel, "-initrd", o.initrd ?? "", "-append", o.append ?? "");
  if (o.dtb) args.push("-dtb", o.dtb);
  if (o.firmware === "uefi") args.push("-bios", OVMF);
  if (o.net) {
    // The host side listens on loopback only; no option ROM: the guest boots from its disk, never the network.
    const fwd = o.net.forwards.map((f) => `,hostfwd=tcp:127.0.0.1:${f.host}-:${f.guest}`).join("");
    args.push("-netdev", `user,id=net0${fwd}`, "-device", "virtio-net-pci,netdev=net0,romfile=");
  }
  const controllers = new Set<string>();
  const controller = (name: string, dev: string): void => {
    if (!controllers.has(name)) args.push("-device", dev);
    controllers.add(name);
  };
  o.disks.forEach((d, i) => {
    const id = `disk${i}`;
    // Without a kernel the firmware boots the first disk.
    const boot = i === 0 && !o.kernel ? ",bootindex=0" : "";
    const ro = d.readOnly || d.bus === "cd" ? ",read-only=on" : "";
    const drive = `file=${d.file},format=raw,if=none,id=${id}${ro}`;
    // Each device has an id as well as its drive: QMP unplugs it by that.
    const ref = `drive=${id},id=dev${i}`;
    switch (d.bus) {
      case "virtio":
        args.push("-drive", drive, "-device", `virtio-blk-pci,${ref}${boot}`);
        break;
      case "ata":
        controller("ahci", "ahci,id=ahci");
        args.push("-drive", drive, "-device", `ide-hd,${ref},bus=ahci.${i % 6}${boot}`);
        break;
      case "cd":
        controller("ahci", "ahci,id=ahci");
        args.push("-drive", drive + ",media=cdrom", "-device", `ide-cd,${ref},bus=ahci.${i % 6}${boot}`);
        break;
      case "usb":
        // The Pi's USB controller is the machine's own.
        if (name !== "rpi3") controller("xhci", "qemu-xhci,id=xhci");
        args.push(
          "-drive",
          drive,
          "-device",
          `usb-storage,${name === "rpi3" ? "" : "bus=xhci.0,"}${ref},removable=on${boot}`,
        );
        break;
      case "nvme":
        args.push("-drive", drive, "-device", `nvme,serial=ramstack${i},${ref}${boot}`);
        break;
      case "sd":
        // The Pi's card slot is the machine's own, reached only through if=sd.
        if (name === "rpi3") args.push("-drive", `file=${d.file},format=raw,if=sd${ro}`);
        else {
          controller("sdhci", "sdhci-pci");
          args.push("-drive", drive, "-device", `sd-card,${ref}${boot}`);
        }
        break;
    }
  });
  return args;
}

/** Debian's ovmf package: UEFI firmware for QEMU. */
export const OVMF = "/usr/share/ovmf/OVMF.fd";

/** A kernel message as the console prints it: "[    4.215781] SCSI subsystem initialized". */
const KERNEL_CONSOLE_LINE = /^\[\s*\d+\.\d+\] .*\n/gm;

export class VmError extends Error {}

export class Vm {
  private output = "";
  private readonly proc: ChildProcess;
  private exited = false;
  private waiters: (() => void)[] = [];
  private seq = 0;
  private readonly qmpDir: string;
  /** The machine only halts at poweroff: QEMU is killed when the kernel says so. */
  private halts = false;

  private constructor(o: VmOptions) {
    this.qmpDir = mkdtempSync(join(tmpdir(), "ramstack-qmp-"));
    o = { ...o, qmp: join(this.qmpDir, "qmp.sock") };
    if (o.firmware === "uefi" && !existsSync(OVMF))
      throw new VmError(`UEFI firmware ${OVMF} is missing (Debian package ovmf)`);
    for (const f of [o.kernel, o.initrd, ...o.disks.map((d) => d.file)])
      if (f !== undefined && !existsSync(f)) throw new VmError(`${f} does not exist`);
    const board = BOARDS[o.board ?? "pc"];
    if (!have(board.qemu)) throw new VmError(`${board.qemu} is not installed (Debian package ${board.qemuPackage})`);
    this.proc = start(board.qemu, qemuArgs(o));
    this.halts = !board.powersOff;
    // One decoder per stream: a character's bytes may come in two chunks.
    const take =
      (decoder: StringDecoder) =>
      (b: Buffer): void => {
        const text = decoder.write(b);
        this.output += text;
        o.echo?.(text);
        if (this.halts && /reboot: (System halted|Power down)/.test(this.output.slice(-text.length - 40)))
          this.proc.kill("SIGKILL");
        for (const w of this.waiters.splice(0)) w();
      };
    this.proc.stdout!.on("data", take(new StringDecoder("utf8")));
    this.proc.stderr!.on("data", take(new StringDecoder("utf8")));
    this.proc.on("exit", () => {
      this.exited = true;
      rmSync(this.qmpDir, { recursive: true, force: true });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static start(o: VmOptions): Vm {
    return new Vm(o);
  }

  /** Everything the console printed so far. */
  get console(): string {
    return this.output;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Wait until the console output (from `from` on) matches; the match, or an error with the console's tail. */
  async waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.output.slice(from));
      if (m) return m;
      if (this.exited) throw new VmError(`QEMU exited before ${re} appeared; console:\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new VmError(`${re} did not appear in ${timeoutMs / 1000} s; console:\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  tail(lines = 40): string {
    return this.output.split("\n").slice(-lines).join("\n");
  }

  send(text: string): void {
    this.proc.stdin!.write(text);
  }

  /** Wait for the guest's shell to answer. */
  async shellReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const n = ++this.seq;
    const from = this.output.length;
    for (;;) {
      // The echo of the typed line has quotes; the shell's answer does not.
      this.send(`echo ':::READY${n}'\n`);
      try {
        await this.waitFor(
          new RegExp(`^:::READY${n}\\r?$`, "m"),
          Math.min(2000, Math.max(1, deadline - Date.now())),
          from,
        );
        return;
      } catch (e) {
        if (this.exited || Date.now() >= deadline) throw e;
      }
    }
  }

  /** Run a shell command in the guest; its output (stdout and stderr) and exit status. */
  async run(command: string, timeoutMs = 30000): Promise<{ out: string; status: number }> {
    const n = ++this.seq;
    const from = this.output.length;
    this.send(`echo ':::S${n}'; ( ${command} ) 2>&1; echo ":::E${n}:$?"\n`);
    const m = await this.waitFor(new RegExp(`^:::S${n}\\r?\\n([\\s\\S]*?)^:::E${n}:(\\d+)\\r?$`, "m"), timeoutMs, from);
    let out = m[1]!.replace(/\r/g, "");
    // A line the kernel printed on the console meanwhile (a driver loading in the background) is not the command's.
    if (!/\bdmesg\b|kmsg/.test(command)) out = out.replace(KERNEL_CONSOLE_LINE, "");
    return { out: out.replace(/\n$/, ""), status: Number(m[2]) };
  }

  /** Run a command that must succeed; its output. */
  async check(command: string, timeoutMs = 30000): Promise<string> {
    const r = await this.run(command, timeoutMs);
    if (r.status !== 0) throw new VmError(`'${command}' failed in the guest (exit ${r.status}):\n${r.out}`);
    return r.out;
  }

  /**
   * One QMP command, on a connection of its own; what QMP printed up to the
   * first line matching UNTIL (by default the command's return). An error
   * QMP answers throws.
   */
  async qmp(
    command: string,
    args: Record<string, unknown> = {},
    until: RegExp = /"return"/,
    timeoutMs = 30000,
  ): Promise<string> {
    const sock = createConnection(join(this.qmpDir, "qmp.sock"));
    let got = "";
    const waitFor = (re: RegExp): Promise<void> =>
      new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new VmError(`QMP ${command}: no ${re} in ${timeoutMs / 1000} s; got:\n${got}`)),
          timeoutMs,
        );
        const check = (): void => {
          if (re.test(got) || /"error"/.test(got)) {
            clearTimeout(t);
            sock.off("data", onData);
            resolve();
          }
        };
        const onData = (b: Buffer): void => {
          got += b.toString("utf8");
          check();
        };
        sock.on("data", onData);
        check();
      });
    try {
      await waitFor(/"QMP"/);
      sock.write(JSON.stringify({ execute: "qmp_capabilities" }) + "\n");
      await waitFor(/"return"/);
      got = "";
      sock.write(JSON.stringify({ execute: command, arguments: args }) + "\n");
      await waitFor(until);
      if (/"error"/.test(got)) throw new VmError(`QMP ${command} failed:\n${got}`);
      return got;
    } finally {
      sock.destroy();
    }
  }

  /** Pull disk N (in the order given) out of the running machine, as a user pulls a USB stick. */
  async unplug(n: number, timeoutMs = 30000): Promise<void> {
    // The device is gone once the guest let go of it (or at once for a surprise removal).
    await this.qmp(
      "device_del",
      { id: `dev${n}` },
      new RegExp(`"DEVICE_DELETED".*"device": "dev${n}"`, "s"),
      timeoutMs,
    );
  }

  /** The display's picture now, as a PPM file at FILE (the machine needs `display`). */
  async screendump(file: string): Promise<void> {
    await this.qmp("screendump", { filename: file });
  }

  /** Kill QEMU (idempotent) and wait for it to go. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once("exit", () => resolve()));
    this.proc.kill("SIGKILL");
    await gone;
  }
}

/** Boot, hand the VM to fn, and always kill QEMU afterwards. */
export async function withVm<T>(o: VmOptions, fn: (vm: Vm) => Promise<T>): Promise<T> {
  const vm = Vm.start(o);
  try {
    return await fn(vm);
  } finally {
    await vm.kill();
  }
}
