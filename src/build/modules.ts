// Kernel modules: which ones the initrd needs to reach disks, their
// dependencies (from modules.dep), and a depmod'ed tree holding just those.

import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "../sys/exec.js";
import { LUKS_MODULES } from "../plan/luks.js";
import { moduleName } from "../port/module-index.js";
import type { Arch } from "./arch.js";
import { ARCH } from "./arch.js";

/** Drivers and filesystems needed to find and mount the boot files and saves. */
export const INITRD_MODULES = [
  // virtio, SATA/IDE, SCSI, CD
  "virtio_pci",
  "virtio_blk",
  "virtio_scsi",
  "ahci",
  "ata_piix",
  "ata_generic",
  "sd_mod",
  "sr_mod",
  // USB storage and keyboards (for prompts)
  "xhci_pci",
  "ehci_pci",
  "ohci_pci",
  "uhci_hcd",
  "usb_storage",
  "uas",
  "usbhid",
  "hid_generic",
  // NVMe, SD/MMC
  "nvme",
  "sdhci_pci",
  "sdhci_acpi",
  "mmc_block",
  // filesystems and layering
  "crc32c_generic",
  "crc32c_intel",
  "ext4",
  "vfat",
  "nls_cp437",
  "nls_iso8859_1",
  "nls_ascii",
  "nls_utf8",
  // vfat's codepages for the keyboards that need them (pkeys=es: 850; pkeys=pl: 852 with iso8859-2)
  "nls_cp850",
  "nls_cp852",
  "nls_iso8859_2",
  "exfat",
  "isofs",
  "squashfs",
  "overlay",
  "loop",
  // encrypted saves
  ...LUKS_MODULES,
];

/** The initrd's drivers for ARCH: the common list and the arch's own (boards' SD and USB hosts). */
export function initrdModules(arch: Arch): string[] {
  return [...INITRD_MODULES, ...ARCH[arch].initrdModules];
}

/** depmod a kernel's module tree once so that modules.dep exists. */
export function ensureDepmod(root: string, kver: string): void {
  if (!existsSync(join(root, "lib/modules", kver, "modules.dep"))) run("depmod", ["-b", root, kver]);
}

/** name -> path (relative to lib/modules/KVER) for every module of the tree. */
export function moduleIndex(root: string, kver: string): { paths: Map<string, string>; deps: Map<string, string[]> } {
  const text = readFileSync(join(root, "lib/modules", kver, "modules.dep"), "utf8");
  const paths = new Map<string, string>();
  const deps = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const [mod, rest] = line.split(":");
    if (!mod) continue;
    paths.set(moduleName(mod), mod);
    deps.set(mod, (rest ?? "").trim().split(/\s+/).filter(Boolean));
  }
  return { paths, deps };
}

/** The modules to copy: the wanted ones and everything they depend on. */
export function moduleClosure(
  root: string,
  kver: string,
  wanted: readonly string[],
): { files: string[]; missing: string[] } {
  const { paths, deps } = moduleIndex(root, kver);
  const files = new Set<string>();
  const missing: string[] = [];
  const add = (p: string): void => {
    if (files.has(p)) return;
    files.add(p);
    for (const d of deps.get(p) ?? []) add(d);
  };
  for (const w of wanted) {
    const p = paths.get(w.replace(/-/g, "_"));
    if (p) add(p);
    else missing.push(w); // built into the kernel, or not built at all
  }
  return { files: [...files].sort(), missing };
}

/**
 * Copy modules (and the kernel's modules.builtin files) into a tree and
 * depmod it; with LINK, the modules are hard links (a tree only mksquashfs reads).
 */
export function installModules(
  srcRoot: string,
  kver: string,
  files: readonly string[],
  destRoot: string,
  link = false,
): void {
  const src = join(srcRoot, "lib/modules", kver);
  const dest = join(destRoot, "lib/modules", kver);
  for (const f of files) {
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    (link ? linkSync : copyFileSync)(join(src, f), join(dest, f));
  }
  for (const f of readdirSync(src).filter((n) => n.startsWith("modules.builtin") || n === "modules.order"))
    copyFileSync(join(src, f), join(dest, f));
  run("depmod", ["-b", destRoot, kver]);
}
