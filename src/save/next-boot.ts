// Will the next boot use the save just made? The planner is pure, so the
// saver asks it: the disks as they are now, this boot's command line and the
// initrd's spec files, the very decision the init will make. A first save is
// only called "used from the next boot" when the plan says so.

import { defaultPort } from "../port/default.js";
import { join } from "../lib/path.js";
import { kernelFilesystems, MountedTree, ramMiB, toMachineDisks } from "../init/probe.js";
import { FS_MODULES } from "../plan/filesystems.js";
import type { Machine } from "../plan/machine.js";
import { planBoot } from "../plan/planner.js";
import type { Plan } from "../plan/types.js";
import type { Port } from "../port/port.js";
import type { BlockDisk } from "../sys/blockdevs.js";
import { listBlockDisks } from "../sys/blockdevs.js";
import { mainSfs, readPupstate } from "./running.js";

export interface NextBoot {
  /** The next boot with this command line stacks this save. */
  uses: boolean;
  pupmode: number;
  /** One sentence for the user: what the next boot does with the save, and what to do if it does not use it. */
  says: string;
}

/** A file of /proc the plan cannot do without. */
function procFile(port: Port, path: string): string {
  const text = port.readText(path);
  if (text === undefined) throw new Error(`${path} cannot be read`);
  return text;
}

/** The machine as the init will see it, read from the running system. */
function machineNow(root: string, disks: readonly BlockDisk[], port: Port): Machine {
  const meminfo = procFile(port, "/proc/meminfo");
  const initrd: Machine["initrd"] = { DISTRO_SPECS: port.readText(join(root, "initrd/DISTRO_SPECS")) ?? "", files: [] };
  const bootSpecs = port.readText(join(root, "initrd/BOOT_SPECS"));
  if (bootSpecs !== undefined) initrd.BOOT_SPECS = bootSpecs;
  // A humongous initrd carries its SFS: the plan finds them there again.
  const sfs = mainSfs(readPupstate(root, port));
  if (sfs?.part === "rootfs") initrd.files!.push(sfs.path);
  const total = ramMiB(meminfo);
  return {
    ramMiB: total,
    availableMiB: total,
    kernelRelease: port.kernelRelease(),
    // The running system can load every filesystem module from its zdrv.
    filesystems: [...new Set([...kernelFilesystems(procFile(port, "/proc/filesystems")), ...Object.keys(FS_MODULES)])],
    initrd,
    disks: toMachineDisks(disks),
  };
}

/**
 * Plan the next boot with this boot's command line. Partitions are read
 * where they are mounted, or mounted read-only for the time of the plan.
 */
export function planNextBoot(root = "/", port: Port = defaultPort()): Plan {
  const mounts = port.mounts();
  const made: string[] = [];
  const mounter = (name: string, fstype: string, imageFile?: string): string | null => {
    const source = imageFile ?? `/dev/${name}`;
    const at = mounts.find((m) => m.source === source)?.target;
    if (at) return at;
    const target = `/tmp/ramstack-next-boot/${name}`;
    port.mkdir(target);
    try {
      port.mount({ fstype, source, target, options: imageFile ? ["loop", "ro"] : ["ro"] });
    } catch {
      return null;
    }
    made.push(target);
    return target;
  };
  try {
    return planBoot({
      machine: machineNow(root, listBlockDisks(), port),
      cmdline: procFile(port, "/proc/cmdline").trim(),
      treeFor: (p) => new MountedTree(p.name, p.fstype, mounter),
    });
  } finally {
    for (const t of made.reverse()) {
      port.umount(t);
      // Still busy: left for the next boot's tmpfs to forget.
      port.removeEmptyDir(t);
    }
  }
}

/** What the next boot does with the save at PARTITION:PATH, from its plan. */
export function judgeNextBoot(plan: Plan, partition: string, path: string, advice: string): NextBoot {
  const s = plan.save;
  if (s.partition === partition && s.path === path && plan.pupmode !== 5) {
    return { uses: true, pupmode: plan.pupmode, says: `the next boot uses it (PUPMODE ${plan.pupmode})` };
  }
  const menu = plan.questions.find((q) => q.id === "save-choice");
  if (menu && menu.options.some((o) => o.label === `${partition} ${path}`)) {
    return {
      uses: false,
      pupmode: plan.pupmode,
      says: `the next boot finds it among ${menu.options.length - 1} saves and asks which one to use (no answer in ${menu.timeoutSec} s: none); ${advice}`,
    };
  }
  const other = s.partition ? `it would use ${s.partition}:${s.path} instead` : "it would find no save";
  const why = plan.warnings.find((w) => /save|SAVESPEC|psave/.test(w));
  return {
    uses: false,
    pupmode: plan.pupmode,
    says: `the next boot with this command line does NOT use it: ${other}${why ? ` (${why})` : ""}; ${advice}`,
  };
}
