// The machines QEMU emulates for ramstack: a PC for amd64 builds, and for
// arm64 builds QEMU's generic virt machine (fast) and a Raspberry Pi 3 B.

import type { Arch } from "../build/arch.js";
import type { DiskBus } from "./qemu.js";

export type Board = "pc" | "virt" | "rpi3";
export const BOARDS_LIST: readonly Board[] = ["pc", "virt", "rpi3"];

export interface BoardDef {
  arch: Arch;
  /** What it is, for --help. */
  purpose: string;
  qemu: string;
  /** The Debian package that has the qemu program. */
  qemuPackage: string;
  machine: string[];
  /** The CPU model under TCG; null: the machine's own (fixed). */
  tcgCpu: string | null;
  /** The kernel's console. */
  console: string;
  /** QEMU's serial ports, in order: the console is the one on stdio. */
  serial: string[];
  /** RAM the machine has whatever is asked (MiB), or null. */
  fixedMemMiB: number | null;
  /** The CPUs, when the machine fixes them. */
  fixedCpus: number | null;
  /** The device tree the kernel needs (a file of the kernel package's broadcom/ directory), or null. */
  dtb: string | null;
  /** The buses a disk may be attached to on it. */
  buses: readonly DiskBus[];
  /** Whether poweroff ends QEMU: a Pi only halts, and the runner kills it. */
  powersOff: boolean;
}

export const BOARDS: Record<Board, BoardDef> = {
  pc: {
    arch: "amd64",
    purpose: "a PC (QEMU's default i440fx machine)",
    qemu: "qemu-system-x86_64",
    qemuPackage: "qemu-system-x86",
    machine: [],
    tcgCpu: "max",
    console: "ttyS0",
    serial: ["stdio"],
    fixedMemMiB: null,
    fixedCpus: null,
    dtb: null,
    buses: ["virtio", "ata", "usb", "nvme", "sd", "cd"],
    powersOff: true,
  },
  virt: {
    arch: "arm64",
    purpose: "QEMU's generic arm64 machine: the fastest to emulate, with PCI disks",
    qemu: "qemu-system-aarch64",
    qemuPackage: "qemu-system-arm",
    machine: ["-M", "virt"],
    // cortex-a53 (the Pi 3's core) is cheaper to emulate than max's pointer authentication.
    tcgCpu: "cortex-a53",
    console: "ttyAMA0",
    serial: ["stdio"],
    fixedMemMiB: null,
    fixedCpus: null,
    dtb: null,
    buses: ["virtio", "ata", "usb", "nvme", "sd", "cd"],
    powersOff: true,
  },
  rpi3: {
    arch: "arm64",
    purpose: "a Raspberry Pi 3 B (QEMU's raspi3b: 4 cores, 1 GiB, the SD card and USB)",
    qemu: "qemu-system-aarch64",
    qemuPackage: "qemu-system-arm",
    machine: ["-M", "raspi3b"],
    tcgCpu: null,
    // The mini UART: the upstream device tree gives the PL011 to Bluetooth, where it prints but reads nothing.
    console: "ttyS1",
    serial: ["null", "stdio"],
    fixedMemMiB: 1024,
    fixedCpus: 4,
    dtb: "bcm2837-rpi-3-b.dtb",
    buses: ["sd", "usb"],
    powersOff: false,
  },
};

export function parseBoard(s: string): Board {
  if ((BOARDS_LIST as readonly string[]).includes(s)) return s as Board;
  throw new Error(`unknown board '${s}' (known: ${BOARDS_LIST.join(", ")})`);
}

/** The board a build of ARCH boots on when none is named. */
export function defaultBoard(arch: Arch): Board {
  return arch === "amd64" ? "pc" : "virt";
}
