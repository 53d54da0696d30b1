// `ramstack run`: boot a build in QEMU, interactively or to run commands.

import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { readManifest } from "../build/build.js";
import type { ImageManifest } from "../build/image.js";
import { readImageManifest } from "../build/image.js";
import { piCardVm } from "../vm/pi-card.js";
import { run } from "../sys/exec.js";
import type { PartFs } from "../build/disk.js";
import { frugalDisk } from "../vm/frugal-disk.js";
import type { DiskBus, VmDisk, VmOptions } from "../vm/qemu.js";
import { DISK_BUSES, parseForward, qemuArgs, withVm } from "../vm/qemu.js";
import type { Board } from "../vm/boards.js";
import { BOARDS, BOARDS_LIST, defaultBoard, parseBoard } from "../vm/boards.js";
import type { Arch } from "../build/arch.js";
import type { OptionDef } from "./args.js";
import { optionsHelp, parseArgs, UsageError, optionValue } from "./args.js";

const OPTIONS: OptionDef[] = [
  { name: "cmdline", value: "TEXT", help: "boot parameters added to the kernel command line" },
  {
    name: "bus",
    value: "BUS",
    help: `how the boot disk is attached: ${DISK_BUSES.join(", ")} (default: virtio; sd on the rpi3 board)`,
  },
  { name: "psubdir", value: "DIR", help: "put the frugal files in this directory of the boot disk" },
  { name: "label", value: "LABEL", help: "the boot partition's label", default: "RAMSTACK" },
  { name: "fs", value: "FS", help: "the boot partition's filesystem: ext2, ext3, ext4, vfat", default: "ext4" },
  { name: "disk", value: "FILE[:BUS]", repeat: true, help: "attach another disk image (BUS as above, default virtio)" },
  { name: "firmware", value: "F", help: "for an image: bios or uefi (default: bios when the image has it)" },
  { name: "mem", value: "MiB", help: "guest memory", default: "1024" },
  {
    name: "card",
    value: "MiB",
    help: "for a Raspberry Pi card image: the emulated card's size, a power of two at least the image's (the image file grows to it, sparse; default: the next power of two)",
  },
  { name: "exec", value: "CMD", repeat: true, help: "run CMD in the guest's shell, print its output, then power off" },
  { name: "timeout", value: "SEC", help: "with --exec: how long the boot may take", default: "180" },
  {
    name: "net",
    help: "user-mode networking: a virtio network card through which the guest reaches what this machine reaches (10.0.2.15/24, gateway and DNS 10.0.2.2/3)",
  },
  {
    name: "forward",
    value: "HOST:GUEST",
    repeat: true,
    help: "forward this machine's TCP port HOST (on 127.0.0.1) to the guest's port GUEST; implies --net",
  },
  {
    name: "vnc",
    value: "N",
    help: "a screen (virtio-vga) for what draws on it (Kodi), seen with a VNC viewer at 127.0.0.1:590N; the CPU is then a model without AVX2 (Nehalem), which Mesa's software renderer needs under TCG",
  },
  {
    name: "board",
    value: "B",
    help: `the machine: ${BOARDS_LIST.map((b) => `${b} (${BOARDS[b].arch})`).join(", ")}; default: pc for an amd64 build, virt for an arm64 one`,
  },
  { name: "print-args", help: "print the QEMU command instead of running it" },
  { name: "help", help: "show this help" },
];

export const RUN_HELP = `Usage: ramstack run BUILD_DIR [--cmdline "..."] [--bus usb] [--board virt|rpi3] [--exec CMD ...]
       ramstack run IMAGE [--firmware bios|uefi] [--bus usb] [--exec CMD ...]

Boots a build or a disk image in QEMU (software emulation; RAMSTACK_ACCEL=kvm
where KVM works). A build's frugal files go on a disk image of their own,
attached as a virtio, SATA, USB, NVMe, SD or CD drive, and the kernel and
initrd are handed to QEMU. An image made by 'ramstack image' is booted by
the firmware (SeaBIOS or OVMF) through its GRUB menu; its boot parameters
are in its /boot/grub/grub.cfg, and its console must be serial
('ramstack image --console serial') to be seen here. Without --exec the
serial console is on this terminal
(Ctrl-A X quits). With --exec each command runs in the guest's shell, its
output is printed, and the guest is powered off; the exit status is 1 when a
command failed.

An arm64 build (ramstack build --arch arm64) boots on QEMU's virt machine,
or on an emulated Raspberry Pi 3 B with --board rpi3 (the boot disk is then
its SD card, or a USB stick with --bus usb; the console is the Pi's mini
UART, ttyS1; the Pi only halts at poweroff, and QEMU is then stopped).

${optionsHelp(OPTIONS)}`;

type Options = Map<string, string[]>;

/** The board to boot on: the one named, which must suit the build's arch, or the arch's default. */
function chooseBoard(named: string | undefined, arch: Arch, what: string): Board {
  if (named === undefined) return defaultBoard(arch);
  let board: Board;
  try {
    board = parseBoard(named);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (BOARDS[board].arch !== arch)
    throw new UsageError(`${what} is built for ${arch}; the ${board} board is ${BOARDS[board].arch}`);
  return board;
}

/** A build directory: its files on a disk of their own, the kernel and initrd handed to QEMU. */
function buildVm(build: string, options: Options, busNamed: DiskBus | undefined): VmOptions {
  const m = readManifest(build);
  const board = chooseBoard(options.get("board")?.[0], m.arch ?? "amd64", build);
  const def = BOARDS[board];
  const bootBus = busNamed ?? def.buses[0]!;
  if (!def.buses.includes(bootBus))
    throw new UsageError(`the ${board} board has no ${bootBus} disks (it has: ${def.buses.join(", ")})`);
  if (def.dtb && !m.dtbs?.includes(def.dtb)) throw new UsageError(`${build} has no ${def.dtb} for the ${board} board`);
  if (options.has("firmware")) throw new UsageError("--firmware is for images; a build's kernel is started by QEMU");
  const opt = (n: string): string | undefined => options.get(n)?.[0] ?? OPTIONS.find((o) => o.name === n)?.default;
  const fs = opt("fs") as PartFs;
  if (!["ext2", "ext3", "ext4", "vfat"].includes(fs))
    throw new UsageError(`--fs '${fs}' is not one of ext2, ext3, ext4, vfat`);
  const psubdir = opt("psubdir") ?? "";
  const bootDisk = frugalDisk({
    build,
    psubdir,
    label: opt("label")!,
    fstype: fs,
    table: "mbr",
    powerOfTwo: bootBus === "sd",
    note: (l) => process.stderr.write(`run: ${l}\n`),
  });
  const append = [`console=${def.console}`, psubdir ? `psubdir=${psubdir}` : "", opt("cmdline") ?? ""]
    .filter(Boolean)
    .join(" ");
  return {
    board,
    kernel: join(build, "vmlinuz"),
    initrd: join(build, "initrd.gz"),
    ...(def.dtb ? { dtb: join(build, def.dtb) } : {}),
    append,
    disks: [{ file: bootDisk, bus: bootBus }],
  };
}

/** An image: booted by the firmware through its own GRUB menu. */
function imageVm(image: string, options: Options, bootBus: DiskBus, exec: boolean): VmOptions {
  for (const n of ["cmdline", "psubdir", "label", "fs"]) {
    if (options.has(n))
      throw new UsageError(
        `--${n} is for build directories; an image's boot parameters are in its /boot/grub/grub.cfg`,
      );
  }
  const m = readImageManifest(image);
  if (m?.board) return piImageVm(image, m, options, exec);
  if (options.has("board")) throw new UsageError(`${image} is a PC image: it boots on the pc board`);
  const wanted = options.get("firmware")?.[0];
  if (wanted !== undefined && wanted !== "bios" && wanted !== "uefi")
    throw new UsageError(`--firmware '${wanted}' is not one of bios, uefi`);
  const firmware = wanted ?? (m && !m.firmware.includes("bios") ? "uefi" : "bios");
  if (m && !m.firmware.includes(firmware))
    throw new UsageError(
      `${image} was written without ${firmware.toUpperCase()} boot (it has ${m.firmware.join(", ")})`,
    );
  if (m?.console === "vga") {
    const why = `${image} sends its console to the screen, which is not shown here; write it with 'ramstack image --console serial'`;
    if (exec) throw new UsageError(why);
    process.stderr.write(`run: warning: ${why}\n`);
  }
  return { firmware, disks: [{ file: image, bus: bootBus }] };
}

/**
 * A Raspberry Pi's SD card image on QEMU's raspi3b: the kernel, device tree,
 * initrd and cmdline.txt are read from its boot partition, as the Pi's
 * firmware would (QEMU does not run that firmware).
 */
function piImageVm(image: string, m: ImageManifest, options: Options, exec: boolean): VmOptions {
  const board = chooseBoard(options.get("board")?.[0] ?? "rpi3", "arm64", image);
  if (board !== "rpi3")
    throw new UsageError(`${image} is a Raspberry Pi card: it boots on the rpi3 board (QEMU's raspi3b)`);
  if (m.board !== "rpi3" && m.board !== "rpi-zero2")
    throw new UsageError(
      `${image} is for the ${m.board} board, a Raspberry Pi 4, which this QEMU cannot emulate (its raspi3b is a Pi 3)`,
    );
  for (const n of ["cmdline", "psubdir", "label", "fs", "firmware"])
    if (options.has(n))
      throw new UsageError(`--${n} is for build directories; a card's boot parameters are in its cmdline.txt`);
  if (m.console === "vga") {
    const why = `${image} sends its console to the screen, which is not shown here; write it with 'ramstack image --board ${m.board} --console serial'`;
    if (exec) throw new UsageError(why);
    process.stderr.write(`run: warning: ${why}\n`);
  }
  const card = options.get("card")?.[0];
  const cardMiB = card === undefined ? undefined : Number(card);
  if (cardMiB !== undefined && !(Number.isInteger(cardMiB) && cardMiB > 0 && (cardMiB & (cardMiB - 1)) === 0))
    throw new UsageError(`--card ${card}: a card's size in MiB, a power of two (QEMU's SD cards must be)`);
  return { ...piCardVm(image, m, (l) => process.stderr.write(`run: ${l}\n`), cardMiB), board };
}

function bus(text: string, what: string): DiskBus {
  if (!DISK_BUSES.includes(text as DiskBus))
    throw new UsageError(`${what}: '${text}' is not one of ${DISK_BUSES.join(", ")}`);
  return text as DiskBus;
}

export async function runRun(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, OPTIONS);
  if (a.flags.has("help")) {
    out(RUN_HELP);
    return 0;
  }
  const [target, ...more] = a.positional;
  if (target === undefined)
    throw new UsageError("name a build directory (made by 'ramstack build') or an image (made by 'ramstack image')");
  if (more.length) throw new UsageError(`unexpected argument '${more[0]}'`);
  const opt = (n: string): string | undefined => optionValue(a, OPTIONS, n);
  const mem = Number(opt("mem"));
  if (!Number.isInteger(mem) || mem < 128) throw new UsageError("--mem takes a number of MiB, at least 128");
  const timeout = Number(opt("timeout"));
  if (!(timeout > 0)) throw new UsageError("--timeout takes a number of seconds");
  const commands = a.options.get("exec") ?? [];
  const busNamed = opt("bus");
  const bootBus = busNamed === undefined ? undefined : bus(busNamed, "--bus");
  const extraDisks: VmDisk[] = (a.options.get("disk") ?? []).map((d) => {
    const m = /^(.*?)(?::(\w+))?$/.exec(d)!;
    return { file: resolve(m[1]!), bus: bus(m[2] ?? "virtio", `--disk ${d}`) };
  });
  const isImage = statSync(target, { throwIfNoEntry: false })?.isFile() ?? false;
  const vmOpts: VmOptions = isImage
    ? imageVm(resolve(target), a.options, bootBus ?? "virtio", commands.length > 0)
    : buildVm(resolve(target), a.options, bootBus);
  vmOpts.disks.push(...extraDisks);
  if (a.options.has("card") && !vmOpts.disks.some((d) => d.bus === "sd" && d.file === resolve(target)))
    throw new UsageError("--card is for a Raspberry Pi card image (made by 'ramstack image --board')");
  const fixedMem = BOARDS[vmOpts.board ?? "pc"].fixedMemMiB;
  if (fixedMem !== null && a.options.has("mem") && mem !== fixedMem)
    throw new UsageError(`the ${vmOpts.board} board has ${fixedMem} MiB of RAM; --mem cannot change it`);
  vmOpts.memMiB = fixedMem ?? mem;
  const forwards = (a.options.get("forward") ?? []).map((f) => {
    const p = parseForward(f);
    if (!p) throw new UsageError(`--forward '${f}' is not HOST:GUEST (two TCP ports, 1 to 65535)`);
    return p;
  });
  if (a.flags.has("net") || forwards.length) vmOpts.net = { forwards };
  const vnc = opt("vnc");
  if (vnc !== undefined) {
    if (!/^\d$/.test(vnc)) throw new UsageError(`--vnc takes a display number, 0 to 9 (port 5900 + N); not '${vnc}'`);
    if ((vmOpts.board ?? "pc") !== "pc") throw new UsageError("--vnc: a screen is emulated on the pc board only");
    Object.assign(vmOpts, { display: true, vnc: Number(vnc), cpu: "Nehalem" });
  }

  const qemu = BOARDS[vmOpts.board ?? "pc"].qemu;
  let args: string[];
  try {
    args = qemuArgs(vmOpts);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (a.flags.has("print-args")) {
    out([qemu, ...args].map((x) => (/^[\w,.:=/@+-]+$/.test(x) ? x : `'${x}'`)).join(" "));
    return 0;
  }
  if (commands.length === 0) {
    // The console belongs to the user: QEMU's monitor is multiplexed on it (Ctrl-A X quits).
    const r = run(
      qemu,
      args.map((x) => (x === "stdio" ? "mon:stdio" : x)),
      { inherit: true, allowFail: true },
    );
    return r.status === 0 ? 0 : 1;
  }
  return withVm({ ...vmOpts, echo: (t) => process.stderr.write(t) }, async (vm) => {
    const up = await vm.waitFor(/ramstack: system up|The boot cannot go on/, timeout * 1000);
    if (!up[0].startsWith("ramstack")) out("The boot stopped in the initrd; the commands run in its shell.");
    await vm.shellReady(30000);
    let failed = false;
    for (const c of commands) {
      const r = await vm.run(c, 120000);
      out(`$ ${c}`);
      if (r.out) out(r.out);
      if (r.status !== 0) {
        out(`(exit ${r.status})`);
        failed = true;
      }
    }
    vm.send("poweroff -f\n");
    return failed ? 1 : 0;
  });
}
