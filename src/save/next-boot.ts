// Will the next boot use the save just made? The planner is pure, so the
// saver asks it: the disks as they are now, this boot's command line and the
// initrd's spec files, the very decision the init will make. A first save is
// only called "used from the next boot" when the plan says so.

import { mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { kernelFilesystems, MountedTree, ramMiB, toMachineDisks } from "../init/probe.js";
import { FS_MODULES } from "../plan/filesystems.js";
import { parseMounts } from "../plan/layout.js";
import type { Machine } from "../plan/machine.js";
import { planBoot } from "../plan/planner.js";
import type { Plan } from "../plan/types.js";
import type { BlockDisk } from "../sys/blockdevs.js";
import { listBlockDisks } from "../sys/blockdevs.js";
import { run } from "../sys/exec.js";
import { readTextIfAny } from "../sys/files.js";
import { mainSfs, readPupstate } from "./running.js";

export interface NextBoot {
  /** The next boot with this command line stacks this save. */
  uses: boolean;
  pupmode: number;
  /** One sentence for the user: what the next boot does with the save, and what to do if it does not use it. */
  says: string;
}

/** The machine as the init will see it, read from the running system. */
function machineNow(root: string, disks: readonly BlockDisk[]): Machine {
  const meminfo = readFileSync("/proc/meminfo", "utf8");
  const initrd: Machine["initrd"] = { DISTRO_SPECS: readTextIfAny(join(root, "initrd/DISTRO_SPECS")) ?? "", files: [] };
  const bootSpecs = readTextIfAny(join(root, "initrd/BOOT_SPECS"));
  if (bootSpecs !== undefined) initrd.BOOT_SPECS = bootSpecs;
  // A humongous initrd carries its SFS: the plan finds them there again.
  const sfs = mainSfs(readPupstate(root));
  if (sfs?.part === "rootfs") initrd.files!.push(sfs.path);
  const total = ramMiB(meminfo);
  return {
    ramMiB: total,
    availableMiB: total,
    kernelRelease: release(),
    // The running system can load every filesystem module from its zdrv.
    filesystems: [...new Set([...kernelFilesystems(readFileSync("/proc/filesystems", "utf8")), ...Object.keys(FS_MODULES)])],
    initrd,
    disks: toMachineDisks(disks),
  };
}

/**
 * Plan the next boot with this boot's command line. Partitions are read
 * where they are mounted, or mounted read-only for the time of the plan.
 */
export function planNextBoot(root = "/"): Plan {
  const mounts = parseMounts(readFileSync("/proc/mounts", "utf8"));
  const made: string[] = [];
  const mounter = (name: string, fstype: string, imageFile?: string): string | null => {
    const source = imageFile ?? `/dev/${name}`;
    const at = mounts.find((m) => m.source === source)?.target;
    if (at) return at;
    const target = `/tmp/ramstack-next-boot/${name}`;
    mkdirSync(target, { recursive: true });
    const r = run("mount", ["-t", fstype, "-o", imageFile ? "loop,ro" : "ro", source, target], { allowFail: true });
    if (r.status !== 0) return null;
    made.push(target);
    return target;
  };
  try {
    return planBoot({
      machine: machineNow(root, listBlockDisks()),
      cmdline: readFileSync("/proc/cmdline", "utf8").trim(),
      treeFor: (p) => new MountedTree(p.name, p.fstype, mounter),
    });
  } finally {
    for (const t of made.reverse()) {
      run("umount", [t], { allowFail: true });
      try {
        rmdirSync(t);
      } catch {
        // Still busy: left for the next boot's tmpfs to forget.
      }
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
    return { uses: false, pupmode: plan.pupmode, says: `the next boot finds it among ${menu.options.length - 1} saves and asks which one to use (no answer in ${menu.timeoutSec} s: none); ${advice}` };
  }
  const other = s.partition ? `it would use ${s.partition}:${s.path} instead` : "it would find no save";
  const why = plan.warnings.find((w) => /save|SAVESPEC|psave/.test(w));
  return { uses: false, pupmode: plan.pupmode, says: `the next boot with this command line does NOT use it: ${other}${why ? ` (${why})` : ""}; ${advice}` };
}
