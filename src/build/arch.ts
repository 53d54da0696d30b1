// The architectures a system is built for, and what differs between them:
// Debian's names, the C library's directories, the runtime's ELF loader, the
// kernel's metapackage and the drivers the initrd adds for the boards.

import type { QuickjsArch } from "./quickjs.js";

export type Arch = "amd64" | "arm64";
export const ARCHES: readonly Arch[] = ["amd64", "arm64"];

export interface ArchDef {
  /** GNU triplet: Debian's multiarch library directory. */
  triplet: string;
  /** The runtime's build (src/build/quickjs.ts). */
  quickjs: QuickjsArch;
  /** The dynamic loader the main SFS's tools run through. */
  loader: string;
  /** Debian's kernel metapackage (it depends on linux-image-RELEASE). */
  kernelMeta: string;
  /** DISTRO_TARGETARCH in DISTRO_SPECS (woof-CE's names). */
  targetArch: string;
  /** What `uname -m` says on it. */
  machine: string;
  /** Drivers the initrd needs on this arch beyond the common list (src/build/modules.ts). */
  initrdModules: readonly string[];
  /** Serial terminals a console may be on: the debian profile logs root in on the kernel's. */
  serialConsoles: readonly string[];
  /** zdrv's modules: all of the kernel's, or those of the boards the arch's systems run on (src/build/zdrv-select.ts). */
  zdrvModules: "all" | "boards";
  /** Filesystems whose modules the init's head start loads in the background while it starts: what nearly every boot mounts. */
  headStartFilesystems: readonly string[];
}

export const ARCH: Record<Arch, ArchDef> = {
  amd64: {
    triplet: "x86_64-linux-gnu",
    quickjs: "x86_64",
    loader: "ld-linux-x86-64.so.2",
    kernelMeta: "linux-image-amd64",
    targetArch: "x86_64",
    machine: "x86_64",
    initrdModules: [],
    serialConsoles: ["ttyS0"],
    zdrvModules: "all",
    // A PC's frugal install is on ext4 far more often than on vfat; the union is always overlay.
    headStartFilesystems: ["ext4", "overlay"],
  },
  arm64: {
    triplet: "aarch64-linux-gnu",
    quickjs: "arm64",
    loader: "ld-linux-aarch64.so.1",
    kernelMeta: "linux-image-arm64",
    targetArch: "arm64",
    machine: "aarch64",
    initrdModules: [
      // QEMU's virt machine: virtio over MMIO (virtio-pci is in the common list).
      "virtio_mmio",
      // Raspberry Pi SD cards: the Arasan/iProc SDHCI (Pi 3's and 4's card slots) and the BCM2835 SD host.
      "sdhci_iproc",
      "bcm2835",
      // Pi 4: the firmware interface that loads the USB controller's firmware (its PCIe host is built in).
      "reset_raspberrypi",
      // The Pi's USB (OTG controller on Pi 3, Zero 2 W, CM4's first port).
      "dwc2",
      // LUKS with the CPU's AES instructions.
      "aes_ce_blk",
    ],
    // QEMU's virt (and a Pi's PL011 when Bluetooth leaves it free), the Pi's mini UART.
    serialConsoles: ["ttyAMA0", "ttyS1"],
    // The Raspberry Pis and virt: other SoCs' drivers would more than double the SD card.
    zdrvModules: "boards",
    // A Pi card (ramstack image --board): vfat boot partition, ext4 save partition.
    headStartFilesystems: ["vfat", "ext4", "overlay"],
  },
};

export function parseArch(s: string): Arch {
  if ((ARCHES as readonly string[]).includes(s)) return s as Arch;
  throw new Error(`unknown architecture '${s}' (known: ${ARCHES.join(", ")})`);
}

/** Debian's package name for ARCH: qualified when it is not the host's, so apt fetches the right one. */
export function debFor(pkg: string, arch: Arch, host: string): string {
  return arch === host ? pkg : `${pkg}:${arch}`;
}
