// The real machine as the planner sees it: disks and partitions from sysfs
// and superblocks, files read through partitions mounted on first look.

import { defaultPort } from "../port/default.js";
import { join } from "../lib/path.js";
import { FS_ALIASES, FS_MODULES } from "../plan/filesystems.js";
import type { Machine, MachineDisk, MachinePartition } from "../plan/machine.js";
import type { FileTree, NodeInfo } from "../plan/tree.js";
import { normalizePath } from "../plan/tree.js";
import { moduleName, parseModuleIndex } from "../port/module-index.js";
import type { Port } from "../port/port.js";
import type { BlockDisk } from "../sys/blockdevs.js";
import { identifyPath } from "../sys/blkid.js";

export function kernelFilesystems(procFilesystems: string): string[] {
  const out = new Set<string>();
  for (const line of procFilesystems.split("\n")) {
    const name = line.trim().split(/\s+/).pop();
    if (!name) continue;
    const fs = FS_ALIASES[name] ?? name;
    if (fs) out.add(fs);
  }
  return [...out];
}

export function ramMiB(meminfo: string, field = "MemTotal"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s*kB`, "m").exec(meminfo);
  return m ? Math.floor(Number(m[1]) / 1024) : 0;
}

/** Mounts a partition (or, given a file, an image read-only) on first use at /mnt/NAME; returns its mount point or null. */
export type Mounter = (name: string, fstype: string, imageFile?: string) => string | null;

/** A FileTree over a partition, or an ISO file, that is mounted only when first read. */
export class MountedTree implements FileTree {
  private root: string | null | undefined;

  constructor(
    private readonly name: string,
    private readonly fstype: string,
    private readonly mounter: Mounter,
    private readonly imageFile?: string,
    /** The files inside an image file (an encrypted save once opened), when they can be read. */
    private readonly imageOf?: (path: string) => FileTree | undefined,
    private readonly port: Port = defaultPort(),
  ) {}

  private base(): string | null {
    if (this.root === undefined) this.root = this.mounter(this.name, this.fstype, this.imageFile);
    return this.root;
  }

  private full(path: string): string | null {
    const b = this.base();
    return b === null ? null : join(b, normalizePath(path));
  }

  stat(path: string): NodeInfo | undefined {
    const f = this.full(path);
    if (f === null) return undefined;
    const st = this.port.stat(f);
    if (!st) return undefined;
    if (st.kind === "dir") return { kind: "dir", sizeMiB: 0 };
    const info: NodeInfo = { kind: "file", sizeMiB: st.size / 1048576 };
    // A save file's header says whether it is encrypted (its name need not).
    if (/\.[234]fs$/.test(path) && identifyPath(f, 0, this.port)?.fstype === "crypto_LUKS") info.luks = true;
    const image = this.imageOf?.(normalizePath(path));
    if (image) info.image = image;
    // An ISO to boot from (isofrom=): its files are read through a loop mount at /mnt/iso.
    if (/\.iso$/i.test(path)) {
      info.fstype = "iso9660";
      info.image = new MountedTree("iso", "iso9660", this.mounter, f, undefined, this.port);
    }
    return info;
  }

  list(dir: string): string[] {
    const f = this.full(dir);
    return f === null ? [] : this.port.list(f);
  }

  read(path: string): string | undefined {
    const f = this.full(path);
    if (f === null) return undefined;
    // Spec files are small; a large file is not one.
    if ((this.port.stat(f)?.size ?? 0) > 1 << 20) return undefined;
    return this.port.readText(f);
  }
}

export function toMachineDisks(disks: readonly BlockDisk[]): MachineDisk[] {
  return disks.map((d) => ({
    name: d.name,
    transport: d.transport,
    removable: d.removable,
    rotational: d.rotational,
    partitions: d.partitions.map((p): MachinePartition => ({
      name: p.name,
      fstype: p.id?.fstype ?? "",
      label: p.id?.label ?? "",
      uuid: p.id?.uuid ?? "",
      sizeMiB: p.sizeMiB,
      // Free space is not known before a mount, and the planner does not need it.
      freeMiB: 0,
      files: {},
    })),
  }));
}

/** The initrd's own facts: spec files and the SFS files it carries. */
export function initrdFacts(root = "/", port: Port = defaultPort()): Machine["initrd"] {
  const read = (name: string): string | undefined => port.readText(join(root, name));
  const files: string[] = [];
  for (const name of port.list(root)) if (/\.sfs$/.test(name)) files.push("/" + name);
  for (const k of port.list(join(root, "lib/keymaps"))) files.push(`/lib/keymaps/${k}`);
  const facts: Machine["initrd"] = { DISTRO_SPECS: read("DISTRO_SPECS") ?? "", files };
  const bootSpecs = read("BOOT_SPECS");
  if (bootSpecs !== undefined) facts.BOOT_SPECS = bootSpecs;
  return facts;
}

/** Filesystems whose modules the initrd carries: they are loaded when first mounted. */
export function moduleFilesystems(modulesDep: string, fsModules: Record<string, { module: string }>): string[] {
  const present = new Set(modulesDep.split("\n").map((l) => moduleName(l.split(":")[0]!)));
  return Object.entries(fsModules)
    .filter(([, m]) => present.has(m.module))
    .map(([fs]) => fs);
}

export function probeMachine(disks: readonly BlockDisk[], initrdRoot = "/", port: Port = defaultPort()): Machine {
  // No modules.dep: only what the kernel has built in.
  const modulesDep = port.readText(join(initrdRoot, "lib/modules", port.kernelRelease(), "modules.dep")) ?? "";
  const meminfo = port.readText("/proc/meminfo") ?? "";
  const filesystems = new Set([
    ...kernelFilesystems(port.readText("/proc/filesystems") ?? ""),
    ...moduleFilesystems(modulesDep, FS_MODULES),
  ]);
  return {
    ramMiB: ramMiB(meminfo),
    availableMiB: ramMiB(meminfo, "MemAvailable"),
    kernelRelease: port.kernelRelease(),
    filesystems: [...filesystems],
    initrd: initrdFacts(initrdRoot, port),
    disks: toMachineDisks(disks),
  };
}

/** The buses modules.alias names (pci, usb, virtio, …): devices on other buses have no driver here. */
export function aliasBuses(modulesAlias: string): Set<string> {
  // The module index's own scan of the buses (its patterns are parsed only when asked for).
  return driverBuses(parseModuleIndex("", modulesAlias).buses);
}

/** Of the buses alias patterns name, those coldplug reads devices of. */
export function driverBuses(named: Iterable<string>): Set<string> {
  const buses = new Set([...named].filter((b) => /^[\w-]+$/.test(b)));
  // CPU feature modules (crypto acceleration, frequency scaling) reach no disk; the running system loads them.
  buses.delete("cpu");
  return buses;
}

/** A device's module alias: its modalias file, or (SD/MMC cards have none) MODALIAS in its uevent. */
function deviceAlias(dev: string, port: Port): string | undefined {
  const alias = port.readText(join(dev, "modalias"));
  if (alias !== undefined) return alias.trim() || undefined;
  return /^MODALIAS=(.+)$/m.exec(port.readText(join(dev, "uevent")) ?? "")?.[1]?.trim();
}

/** Buses whose devices, on a device-tree machine (an arm64 board), have of: aliases. */
const DEVICE_TREE_BUSES = new Set(["platform", "amba"]);

/** Module aliases of every device on every bus: what coldplug loads drivers for. */
export function deviceAliases(sys = "/sys", buses?: ReadonlySet<string>, port: Port = defaultPort()): string[] {
  const out = new Set<string>();
  const busDir = join(sys, "bus");
  for (const bus of port.list(busDir)) {
    // A bus's devices carry aliases named after it (device-tree devices: of:…): buses the initrd has no drivers for are not read.
    if (buses && !buses.has(bus) && !(DEVICE_TREE_BUSES.has(bus) && buses.has("of"))) continue;
    const devs = join(busDir, bus, "devices");
    for (const d of port.list(devs)) {
      const alias = deviceAlias(join(devs, d), port);
      if (alias) out.add(alias);
    }
  }
  return [...out].sort();
}
