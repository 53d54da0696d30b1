// The block devices of the running machine, from /sys/block: which bus each
// disk hangs on, whether it is removable or rotational, its partitions and
// their filesystems. The roots are parameters so tests can use a fake sysfs.

import { defaultPort } from "../port/default.js";
import { join } from "../lib/path.js";
import type { Port } from "../port/port.js";
import type { Transport } from "../plan/machine.js";
import type { FsIdentity } from "./blkid.js";
import { identifyPath as identify } from "./blkid.js";

export interface BlockPartition {
  name: string;
  sizeMiB: number;
  id: FsIdentity | null;
}

export interface BlockDisk {
  name: string;
  transport: Transport;
  removable: boolean;
  rotational: boolean;
  sizeMiB: number;
  /** Partitions; a disk without a partition table (a CD, a superfloppy) is its own only partition. */
  partitions: BlockPartition[];
}

export interface BlockRoots {
  sys: string;
  dev: string;
}

const IGNORED = /^(ram|loop|nbd|dm-|md|zram|fd)/;

/** The bus a disk is on, from its name and where it sits in /sys/devices. */
export function transportOf(name: string, devicePath: string): Transport {
  if (/^nvme/.test(name)) return "nvme";
  if (/^mmcblk/.test(name)) return "mmc";
  if (/^sr\d/.test(name)) return "cd";
  if (/\/usb\d*\//.test(devicePath)) return "usb";
  if (/^vd/.test(name)) return "virtio";
  if (/\/ata\d+\//.test(devicePath)) return "ata";
  return "scsi";
}

const sectorsToMiB = (text: string): number => Math.floor((Number(text) || 0) / 2048);

export function listBlockDisks(
  roots: BlockRoots = { sys: "/sys", dev: "/dev" },
  port: Port = defaultPort(),
): BlockDisk[] {
  /** A sysfs attribute's value; "" when the device has none. */
  const attr = (path: string): string => (port.readText(path) ?? "").trim();
  const identifyPath = (path: string): FsIdentity | null => identify(path, 0, port);
  const blockDir = join(roots.sys, "block");
  const disks: BlockDisk[] = [];
  for (const name of port.list(blockDir)) {
    if (IGNORED.test(name)) continue;
    const dir = join(blockDir, name);
    let devicePath = "";
    try {
      devicePath = port.realpath(dir);
    } catch {
      devicePath = dir;
    }
    const sizeText = attr(join(dir, "size"));
    // An empty CD drive or card reader has size 0: nothing to search.
    if (sizeText === "0") continue;
    const partitions: BlockPartition[] = port
      .list(dir)
      .filter((p) => p.startsWith(name) && port.stat(join(dir, p, "partition")) !== null)
      .map((p) => ({
        name: p,
        sizeMiB: sectorsToMiB(attr(join(dir, p, "size"))),
        id: identifyPath(join(roots.dev, p)),
      }));
    if (partitions.length === 0) {
      const id = identifyPath(join(roots.dev, name));
      if (id) partitions.push({ name, sizeMiB: sectorsToMiB(sizeText), id });
    }
    const transport = transportOf(name, devicePath);
    disks.push({
      name,
      transport,
      removable: attr(join(dir, "removable")) === "1" || transport === "cd",
      rotational: attr(join(dir, "queue", "rotational")) === "1",
      sizeMiB: sectorsToMiB(sizeText),
      partitions,
    });
  }
  return disks;
}
