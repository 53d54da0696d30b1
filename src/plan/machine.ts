// The machine description the planner decides from. On the host it comes
// from a JSON file (`ramstack plan --machine`); in the init, from probing the
// real machine. The planner only reads it through these types.

export type Transport = "ata" | "usb" | "mmc" | "nvme" | "virtio" | "cd" | "scsi";
export const TRANSPORTS: readonly Transport[] = ["ata", "usb", "mmc", "nvme", "virtio", "cd", "scsi"];

/**
 * A file on a partition: its size in MiB, "dir", or an object. An object with
 * `files` is an image whose contents are known (a save file or an ISO).
 */
export type FileEntry = number | "dir" | FileObject;
export interface FileObject {
  sizeMiB?: number;
  content?: string;
  symlink?: string;
  /** Filesystem inside an image file (save file, ISO). */
  fstype?: string;
  /** The image is a LUKS container: its files are unknown until unlocked. */
  luks?: boolean;
  files?: Record<string, FileEntry>;
}

export interface MachinePartition {
  name: string;
  fstype: string;
  label?: string;
  uuid?: string;
  sizeMiB: number;
  freeMiB: number;
  files: Record<string, FileEntry>;
}

export interface MachineDisk {
  name: string;
  transport: Transport;
  removable: boolean;
  rotational: boolean;
  partitions: MachinePartition[];
}

export interface MachineInitrd {
  DISTRO_SPECS: string;
  BOOT_SPECS?: string;
  /** Paths of files in the initrd that matter to the plan (SFS, keymaps). */
  files?: string[];
  PUPPYLANG?: string;
  PUPPYKEYMAP?: string;
}

export interface Machine {
  ramMiB: number;
  /** Memory free for new use at boot (MemAvailable): copies to RAM must fit in it. */
  availableMiB?: number;
  initrd: MachineInitrd;
  disks: MachineDisk[];
  /** `uname -r`; used for `$(uname -r)` in DISTRO_SPECS. */
  kernelRelease?: string;
  /** Filesystems the kernel can mount (/proc/filesystems plus loadable modules). */
  filesystems?: string[];
}

/** Filesystems assumed mountable when the machine file does not say (from the filesystem table). */
export { DEFAULT_FILESYSTEMS } from "./filesystems.js";

/** Check a parsed JSON value against the machine shape; errors name the path. */
export function validateMachine(value: unknown): { machine?: Machine; errors: string[] } {
  const errors: string[] = [];
  const obj = (v: unknown, path: string): Record<string, unknown> | undefined => {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    errors.push(`${path}: expected an object`);
    return undefined;
  };
  const num = (o: Record<string, unknown>, key: string, path: string, optional = false): void => {
    const v = o[key];
    if (v === undefined && optional) return;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) errors.push(`${path}.${key}: expected a number >= 0`);
  };
  const str = (o: Record<string, unknown>, key: string, path: string, optional = false): void => {
    const v = o[key];
    if (v === undefined && optional) return;
    if (typeof v !== "string") errors.push(`${path}.${key}: expected a string`);
  };
  const bool = (o: Record<string, unknown>, key: string, path: string): void => {
    if (typeof o[key] !== "boolean") errors.push(`${path}.${key}: expected true or false`);
  };
  const checkFiles = (v: unknown, path: string): void => {
    const files = obj(v, path);
    if (!files) return;
    for (const [k, e] of Object.entries(files)) {
      const p = `${path}[${JSON.stringify(k)}]`;
      if (e === "dir" || (typeof e === "number" && Number.isFinite(e) && e >= 0)) continue;
      const fo = typeof e === "object" && e !== null && !Array.isArray(e) ? (e as Record<string, unknown>) : undefined;
      if (!fo) {
        errors.push(`${p}: expected a size in MiB, "dir" or an object`);
        continue;
      }
      num(fo, "sizeMiB", p, true);
      str(fo, "content", p, true);
      str(fo, "symlink", p, true);
      str(fo, "fstype", p, true);
      if (fo.luks !== undefined && typeof fo.luks !== "boolean") errors.push(`${p}.luks: expected true or false`);
      if (fo.files !== undefined) checkFiles(fo.files, `${p}.files`);
    }
  };

  const m = obj(value, "machine");
  if (!m) return { errors };
  num(m, "ramMiB", "machine");
  num(m, "availableMiB", "machine", true);
  str(m, "kernelRelease", "machine", true);
  if (
    m.filesystems !== undefined &&
    !(Array.isArray(m.filesystems) && m.filesystems.every((f) => typeof f === "string"))
  )
    errors.push("machine.filesystems: expected a list of strings");
  const initrd = obj(m.initrd, "machine.initrd");
  if (initrd) {
    str(initrd, "DISTRO_SPECS", "machine.initrd");
    str(initrd, "BOOT_SPECS", "machine.initrd", true);
    str(initrd, "PUPPYLANG", "machine.initrd", true);
    str(initrd, "PUPPYKEYMAP", "machine.initrd", true);
    if (
      initrd.files !== undefined &&
      !(Array.isArray(initrd.files) && initrd.files.every((f) => typeof f === "string"))
    )
      errors.push("machine.initrd.files: expected a list of paths");
  }
  if (!Array.isArray(m.disks)) errors.push("machine.disks: expected a list");
  else {
    const names = new Set<string>();
    m.disks.forEach((d, i) => {
      const path = `machine.disks[${i}]`;
      const disk = obj(d, path);
      if (!disk) return;
      str(disk, "name", path);
      if (!TRANSPORTS.includes(disk.transport as Transport))
        errors.push(`${path}.transport: expected one of ${TRANSPORTS.join("|")}`);
      bool(disk, "removable", path);
      bool(disk, "rotational", path);
      if (!Array.isArray(disk.partitions)) {
        errors.push(`${path}.partitions: expected a list`);
        return;
      }
      disk.partitions.forEach((p, j) => {
        const pp = `${path}.partitions[${j}]`;
        const part = obj(p, pp);
        if (!part) return;
        str(part, "name", pp);
        str(part, "fstype", pp);
        str(part, "label", pp, true);
        str(part, "uuid", pp, true);
        num(part, "sizeMiB", pp);
        num(part, "freeMiB", pp);
        checkFiles(part.files, `${pp}.files`);
        if (typeof part.name === "string") {
          if (names.has(part.name)) errors.push(`${pp}.name: ${part.name} appears twice`);
          names.add(part.name);
        }
      });
    });
  }
  return errors.length ? { errors } : { machine: value as Machine, errors };
}
