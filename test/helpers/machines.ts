// Builders for machine descriptions used by the planner tests.

import type { FileEntry, Machine, MachineDisk, MachinePartition, Transport } from "../../src/plan/machine.js";
import type { Answers } from "../../src/plan/planner.js";
import { planBoot } from "../../src/plan/planner.js";
import type { Plan } from "../../src/plan/types.js";

export const SPECS = "DISTRO_NAME='ramstack tiny'\nDISTRO_VERSION='1.0.0'\nDISTRO_FILE_PREFIX='tiny'\n";
export const SFS = "puppy_tiny_1.0.0.sfs";
export const Z = "zdrv_tiny_1.0.0.sfs";
export const A = "adrv_tiny_1.0.0.sfs";
export const F = "fdrv_tiny_1.0.0.sfs";
export const Y = "ydrv_tiny_1.0.0.sfs";
export const B = "bdrv_tiny_1.0.0.sfs";

export type Files = Record<string, FileEntry>;

export function part(
  name: string,
  fstype: string,
  files: Files = {},
  extra: Partial<MachinePartition> = {},
): MachinePartition {
  return { name, fstype, sizeMiB: 8000, freeMiB: 4000, files, ...extra };
}

export function disk(
  name: string,
  transport: Transport,
  partitions: MachinePartition[],
  extra: Partial<Pick<MachineDisk, "removable" | "rotational">> = {},
): MachineDisk {
  return {
    name,
    transport,
    removable: extra.removable ?? transport === "usb",
    rotational: extra.rotational ?? false,
    partitions,
  };
}

export function machine(disks: MachineDisk[], extra: Partial<Machine> = {}): Machine {
  return { ramMiB: 4096, initrd: { DISTRO_SPECS: SPECS }, disks, ...extra };
}

/** A plain frugal install in `dir` on one internal ext4 disk. */
export function frugal(dir = "", more: Files = {}, extra: Partial<MachinePartition> = {}): Files {
  return { [`${dir}/${SFS}`]: 60, [`${dir}/${Z}`]: 40, ...more, ...(extra.files ?? {}) };
}

export function specsText(name: string, version: string, woof = ""): string {
  return `DISTRO_NAME='${name}'\nDISTRO_VERSION='${version}'\nDISTRO_FILE_PREFIX='tiny'\n${woof ? `WOOF_VERSION='${woof}'\n` : ""}`;
}

/** A save folder for overlay: upper/ holds the layer, with this version's DISTRO_SPECS. */
export function saveFolder(path: string, upper: Files = {}, specs: string | null = SPECS): Files {
  const f: Files = { [`${path}/work`]: "dir", [`${path}/upper`]: "dir" };
  if (specs !== null) f[`${path}/upper/initrd/DISTRO_SPECS`] = { content: specs };
  for (const [k, v] of Object.entries(upper)) f[`${path}/upper${k}`] = v;
  return f;
}

/** A save file with known contents (an ext4 image holding an overlay layer). */
export function saveFile(
  sizeMiB = 512,
  upper: Files = {},
  opts: { luks?: boolean; specs?: string | null } = {},
): FileEntry {
  const specs = opts.specs === undefined ? SPECS : opts.specs;
  const files: Files = { "/upper": "dir", "/work": "dir" };
  if (specs !== null) files["/upper/initrd/DISTRO_SPECS"] = { content: specs };
  for (const [k, v] of Object.entries(upper)) files[`/upper${k}`] = v;
  return { sizeMiB, fstype: "ext4", files, ...(opts.luks ? { luks: true } : {}) };
}

export function plan(m: Machine, cmdline = "", answers?: Answers): Plan {
  return planBoot({ machine: m, cmdline, ...(answers ? { answers } : {}) });
}

export function roles(p: Plan): string[] {
  return p.layers.map((l) => l.role + (l.kind && l.kind !== l.role ? `:${l.kind}` : ""));
}

export function hasLog(p: Plan, re: RegExp): boolean {
  return p.log.some((l) => re.test(l));
}
