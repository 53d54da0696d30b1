// What the init does to carry out a plan, as data: named steps of small
// operations that describe themselves (`ramstack plan --ops` prints them)
// and that the interpreter (execute.ts) performs through the port. Made from
// the plan alone: the same plan always gives the same steps. What only the
// running machine can answer (a password, a copy to RAM that runs out of
// room, an optional layer that will not mount) is decided by the interpreter
// and written in the outcome, beside the plan.

import { basename, join } from "../lib/path.js";
import {
  DEV_SAVE,
  FSCK_FLAG,
  fsckFlagText,
  PUP_LOOP,
  PUP_RO1,
  PUP_RW,
  PUP_RW66,
  PUP_WORK,
  RAM_LAYER,
  RAM_WORK,
  SAVE_LAYER_RECORD,
  saveLayerLink,
  TMPFS,
  UNION_SOURCE,
} from "../plan/layout.js";
import type { Layer, Plan } from "../plan/types.js";
import type { MountSpec } from "../port/port.js";
import { INITRD_MODULES_DIR } from "../port/commands.js";

export const NEW_ROOT = "/pup_new";
/** The LUKS mapper name of an encrypted save. */
export const SAVE_MAPPER = "savefile";

export type Op =
  /** e2fsck of a partition: unmounted for the check, mounted again after. */
  | { op: "fsck-partition"; partition: string; reason: string }
  /** e2fsck of a save file in place; one it cannot repair is not used. */
  | { op: "fsck-save-file"; label: string; file: string; reason: string }
  | { op: "remove"; path: string }
  /** With a mode, chmod after (a umask must not narrow /tmp's 1777). */
  | { op: "mkdir"; path: string; mode?: number }
  | { op: "mount"; spec: MountSpec }
  | { op: "move"; from: string; to: string }
  /** An archive save (or the .new a power cut left) unpacked with tar. */
  | { op: "untar"; archive: string; into: string }
  /** The password asked on the console (a few tries), the container opened; its e2fsck after, when the plan asks. */
  | { op: "open-luks"; label: string; file: string; mapper: string; fsck: string | null }
  /** An encrypted save's version, known only once open: the plan is made again with the save readable. */
  | { op: "check-unlocked-save"; root: string }
  /** Drop a generation a power cut left unfinished; upper/ and work/ made; the generation the union stacks recorded. */
  | { op: "save-generations"; root: string; record: string }
  /** The version-upgrade clean-up of a save layer. */
  | { op: "upgrade-cleanup"; root: string; reason: string }
  | { op: "symlink"; path: string; target: string }
  /** An SFS loop-mounted read-only, from a copy in RAM when the plan says so (read from the disk if the copy fails). */
  | { op: "sfs"; role: string; file: string; ramCopy: string | null; target: string }
  /** PUPMODE 77: session folders copied to RAM, oldest first, aufs whiteouts made overlay ones. */
  | { op: "session-folders"; disc: string; folders: string[]; into: string }
  | { op: "bind"; source: string; target: string; readOnly: boolean }
  /** Modules the initrd lacks, loaded from the stack's zdrv. */
  | { op: "modules-from-stack"; root: string; names: string[]; from: string }
  /** A file written; with `when`, only if that came true at run time (an encrypted save's clean-up is decided once it is open). */
  | { op: "write"; path: string; text: string; when?: "upgrade-clean" }
  /** Copy a file when it exists (an optional spec file). */
  | { op: "copy-if-any"; from: string; to: string }
  /** Unmount the partitions the running system does not need (those the plan's reads mounted). */
  | { op: "unmount-unneeded"; keep: string[] }
  /** Every /pup_* and /mnt/* mount moves under the new root's /initrd. */
  | { op: "move-under-initrd"; newRoot: string }
  | { op: "copy-tree"; from: string; into: string }
  /** Unmounted when mounted; busy, detached (umount -l); a failure is a warning (what stays mounted only costs RAM). */
  | { op: "umount-if-mounted"; target: string; why: string }
  | { op: "shell"; message: string }
  | { op: "switch-root"; newRoot: string };

/** What a failure of a step means for the boot. */
export type OnFail =
  /** The boot cannot go on: a shell follows. */
  | "abort"
  /** The save cannot be used: the boot goes on in RAM, the save untouched. */
  | "save"
  /** An optional layer: left out with a warning. */
  | "skip";

export interface Step {
  name: string;
  onFail: OnFail;
  ops: Op[];
}

/** One line per operation, as the log and `ramstack plan --ops` show it. */
export function describeOp(o: Op): string {
  switch (o.op) {
    case "fsck-partition":
      return `e2fsck -p /dev/${o.partition} (${o.reason}; unmounted for the check)`;
    case "fsck-save-file":
      return `e2fsck -p ${o.file} (${o.reason})`;
    case "remove":
      return `rm ${o.path}`;
    case "mkdir":
      return `mkdir -p${o.mode !== undefined ? ` -m ${o.mode.toString(8)}` : ""} ${o.path}`;
    case "mount":
      return `mount -t ${o.spec.fstype}${o.spec.options?.length ? ` -o ${o.spec.options.join(",")}` : ""} ${o.spec.source} ${o.spec.target}`;
    case "move":
      return `mount -o move ${o.from} ${o.to}`;
    case "untar":
      return `tar -x -f ${o.archive} (or ${o.archive}.new) -C ${o.into}`;
    case "open-luks":
      return `cryptsetup open ${o.file} ${o.mapper} (password asked on the console)${o.fsck ? `; e2fsck -p /dev/mapper/${o.mapper} (${o.fsck})` : ""}`;
    case "check-unlocked-save":
      return `plan again with the save at ${o.root} readable (its version)`;
    case "save-generations":
      return `recover ${o.root}/.gen; mkdir ${o.root}/upper ${o.root}/work; record the generation in ${o.record}`;
    case "upgrade-cleanup":
      return `upgrade clean-up of ${o.root}/upper (${o.reason})`;
    case "symlink":
      return `ln -s ${o.target} ${o.path}`;
    case "sfs":
      return `${o.ramCopy ? `cp ${o.file} ${o.ramCopy} (from the disk if it fails); mount -t squashfs -o loop,ro ${o.ramCopy}` : `mount -t squashfs -o loop,ro ${o.file}`} ${o.target}`;
    case "session-folders":
      return `cp -af ${o.folders.map((f) => join(o.disc, f)).join(" ")} (oldest first, aufs whiteouts made overlay ones) into ${o.into}`;
    case "bind":
      return `mount -o bind${o.readOnly ? ",ro" : ""} ${o.source} ${o.target}`;
    case "modules-from-stack":
      return `modprobe ${o.names.join(" ")} from ${o.root}/lib/modules (${o.from}), when the initrd lacks them`;
    case "write":
      return `write ${o.path}${o.when ? ` (if ${o.when})` : ""}`;
    case "copy-if-any":
      return `cp ${o.from} ${o.to} (if it exists)`;
    case "unmount-unneeded":
      return `umount /mnt/* but ${["tmpfs", "dev_save", ...o.keep].join(", ")}`;
    case "move-under-initrd":
      return `mount -o move /pup_* /mnt/* ${o.newRoot}/initrd/...`;
    case "copy-tree":
      return `cp -a ${o.from}/. ${o.into}`;
    case "umount-if-mounted":
      return `umount ${o.target} (if mounted; umount -l if busy: ${o.why})`;
    case "shell":
      return `sh (${o.message})`;
    case "switch-root":
      return `switch_root ${o.newRoot} /sbin/init`;
  }
}

/** Where the init has a partition mounted: its own name under /mnt, the save's at /mnt/dev_save once moved there. */
export function partitionPath(plan: Plan, partition: string): string {
  if (partition === "iso") return "/mnt/iso";
  return savePartitionMoved(plan) === partition ? DEV_SAVE : `/mnt/${partition}`;
}

/** The partition that holds a save the union uses (PUPMODE 12 and 13): mounted once, at /mnt/dev_save. */
function savePartitionMoved(plan: Plan): string | null {
  return plan.save.partition && saveLayerLink(plan.pupmode) !== null ? plan.save.partition : null;
}

/** The file behind an SFS layer. */
function layerFile(plan: Plan, l: Layer): string {
  if (l.source === "initrd") return join("/", l.path!);
  return join(partitionPath(plan, l.partition!), l.path!);
}

/** The steps that check filesystems before anything is stacked (pfix=fsck, fsckp, an unclean shutdown). */
function checkSteps(plan: Plan): Step[] {
  const steps: Step[] = [];
  for (const f of plan.fsck) {
    const file = /^savefile:([^:]+):(.*)$/.exec(f.target);
    if (file) {
      // An encrypted save is checked once opened (its password is asked for then).
      if (plan.save.encrypted) continue;
      steps.push({
        name: `check the save file ${file[1]}:${file[2]}`,
        onFail: "save",
        ops: [
          {
            op: "fsck-save-file",
            label: `${file[1]}:${file[2]}`,
            file: join(`/mnt/${file[1]}`, file[2]!),
            reason: f.reason,
          },
        ],
      });
    } else
      steps.push({
        name: `check ${f.target}`,
        onFail: "skip",
        ops: [{ op: "fsck-partition", partition: f.target, reason: f.reason }],
      });
  }
  const flags = plan.fsckFlags.map((f): Op => {
    const [part, path] = f.split(":");
    return { op: "remove", path: join(`/mnt/${part}`, path!) };
  });
  if (flags.length) steps.push({ name: "read the unclean-shutdown marks", onFail: "abort", ops: flags });
  return steps;
}

/** The save's root (upper/, work/, .gen/): a folder (or the whole partition) on /mnt/dev_save, or a save file's filesystem at /pup_loop. */
function saveRoot(plan: Plan, l: Layer): string {
  return plan.save.kind === "file" ? PUP_LOOP : join(DEV_SAVE, l.path ?? "/");
}

/** The save mounted at its root, its generation recovered, and the link that names its layer. */
function saveSteps(plan: Plan, l: Layer, linkName: string): Step {
  const save = plan.save;
  const ops: Op[] = [];
  const path = join(DEV_SAVE, l.path ?? "/");
  const root = saveRoot(plan, l);
  const label = `${l.partition}:${l.path}`;
  if (save.kind === "file") {
    const fs = save.fileFs ?? "ext4";
    if (save.encrypted) {
      const fsck = plan.fsck.find((f) => f.target === `savefile:${label}`)?.reason ?? null;
      const dev = `/dev/mapper/${SAVE_MAPPER}`;
      // Read-only until its version is known: a declined save is left exactly as it was.
      ops.push(
        { op: "open-luks", label, file: path, mapper: SAVE_MAPPER, fsck },
        { op: "mount", spec: { fstype: fs, source: dev, target: PUP_LOOP, options: ["ro", "noatime"] } },
      );
      if (plan.upgrade.status === "deferred") ops.push({ op: "check-unlocked-save", root });
      ops.push({
        op: "mount",
        spec: { fstype: fs, source: dev, target: PUP_LOOP, options: ["remount", "rw", "noatime"] },
      });
    } else
      ops.push({
        op: "mount",
        spec: { fstype: fs, source: path, target: PUP_LOOP, options: ["loop", "rw", "noatime"] },
      });
  }
  ops.push({ op: "save-generations", root, record: SAVE_LAYER_RECORD });
  // An encrypted save's clean-up is decided once it is open (check-unlocked-save).
  if (plan.upgrade.clean || save.encrypted) ops.push({ op: "upgrade-cleanup", root, reason: plan.upgrade.reason });
  ops.push({ op: "symlink", path: linkName, target: join(root, "upper") });
  if (linkName === PUP_RW) ops.push({ op: "symlink", path: PUP_WORK, target: join(root, "work") });
  return { name: `the save ${label}`, onFail: "save", ops };
}

/** An SFS layer mounted; only the main SFS is needed to boot: a broken optional layer is left out. */
function sfsStep(plan: Plan, l: Layer): Step {
  const file = layerFile(plan, l);
  return {
    name: `${l.role} ${basename(file)}`,
    onFail: l.role === "puppy" ? "abort" : "skip",
    ops: [
      {
        op: "sfs",
        role: l.role,
        file,
        ramCopy: l.ram && l.source !== "initrd" ? join(TMPFS, basename(file)) : null,
        target: l.mountpoint,
      },
    ],
  };
}

/** Every layer (the main SFS first), then the union at /pup_new. */
function stackSteps(plan: Plan): Step[] {
  const steps: Step[] = [];
  steps.push({
    name: "the RAM layer",
    onFail: "abort",
    ops: [
      {
        op: "mount",
        spec: { fstype: "tmpfs", source: "tmpfs", target: TMPFS, options: [`size=${plan.tmpfsPercent}%`, "mode=755"] },
      },
      ...["pup_rw", "pup_work"].map((d): Op => ({ op: "mkdir", path: join(TMPFS, d) })),
      // The running system's /tmp: anyone may write, only the owner delete.
      { op: "mkdir", path: join(TMPFS, "tmp"), mode: 0o1777 },
    ],
  });
  // The save's partition takes its one name first: the layers on it are read from there.
  const moved = savePartitionMoved(plan);
  if (moved)
    steps.push({
      name: `the save's partition ${moved}`,
      onFail: "save",
      ops: [{ op: "move", from: `/mnt/${moved}`, to: DEV_SAVE }],
    });
  // The main SFS next: it carries the tools a save may need (cryptsetup, tar).
  const main = plan.layers.find((l) => l.role === "puppy");
  if (main) steps.push(sfsStep(plan, main));
  let upper = RAM_LAYER;
  let work = RAM_WORK;
  const s = plan.save;
  if (s.kind === "archive") {
    // Unpacked into a tmpfs of its own, as Puppy does; the partition is not needed after.
    upper = join(PUP_RW66, "upper");
    work = join(PUP_RW66, "work");
    steps.push({
      name: `the archive save ${s.partition}:${s.path}`,
      onFail: "save",
      ops: [
        {
          op: "mount",
          spec: {
            fstype: "tmpfs",
            source: "tmpfs",
            target: PUP_RW66,
            options: [`size=${plan.tmpfsPercent}%`, "mode=755"],
          },
        },
        { op: "mkdir", path: upper },
        { op: "mkdir", path: work },
        { op: "untar", archive: join(partitionPath(plan, s.partition!), s.path!), into: upper },
      ],
    });
  }
  const lower: string[] = [];
  for (const l of plan.layers) {
    if (l.role === "rw") {
      if (l.source === "save") {
        steps.push(saveSteps(plan, l, PUP_RW));
        upper = PUP_RW;
        work = PUP_WORK;
      }
      continue;
    }
    if (l.role === "save" && l.source === "tmpfs") {
      const into = join(TMPFS, "pup_ro1");
      steps.push({
        name: "the multisession folders",
        onFail: "save",
        ops: [
          { op: "session-folders", disc: partitionPath(plan, s.partition!), folders: s.folders ?? [], into },
          { op: "bind", source: into, target: l.mountpoint, readOnly: false },
        ],
      });
      lower.push(l.mountpoint);
      continue;
    }
    if (l.role === "save") {
      steps.push(saveSteps(plan, l, PUP_RO1));
      lower.push(PUP_RO1);
      continue;
    }
    if (l !== main) steps.push(sfsStep(plan, l));
    lower.push(l.mountpoint);
  }
  steps.push({
    name: "the union",
    onFail: "abort",
    ops: [
      {
        op: "mount",
        spec: {
          fstype: "overlay",
          // Puppy's scripts find the root union by its source (grep ^unionfs /proc/mounts).
          source: UNION_SOURCE,
          target: NEW_ROOT,
          // lowerdir is filled in with the layers that mounted (an optional one may be left out).
          // metacopy stays off: a save must hold whole files, never metadata-only copies.
          // xino: one st_dev for every file of / (the layers' inode numbers are made unique).
          options: [`lowerdir=${lower.join(":")}`, `upperdir=${upper}`, `workdir=${work}`, "metacopy=off", "xino=on"],
        },
      },
    ],
  });
  return steps;
}

/** The links that name the layers in the running system (/initrd/pup_rw, /initrd/pup_ro1), as initramfs paths. */
function layerLinks(plan: Plan): { name: string; target: string }[] {
  const links: { name: string; target: string }[] = [];
  const s = plan.save;
  const rw = plan.layers.find((l) => l.role === "rw");
  if (rw?.source === "save") links.push({ name: PUP_RW, target: join(saveRoot(plan, rw), "upper") });
  else if (s.kind === "archive") links.push({ name: PUP_RW, target: join(PUP_RW66, "upper") });
  else links.push({ name: PUP_RW, target: RAM_LAYER });
  const ro1 = plan.layers.find((l) => l.role === "save" && l.source === "save");
  if (ro1) links.push({ name: PUP_RO1, target: join(saveRoot(plan, ro1), "upper") });
  return links;
}

/** A mark that this session did not end cleanly until the shutdown removes it: the next boot checks the save. */
function sessionMark(plan: Plan): Op[] {
  const s = plan.save;
  if (!s.partition || saveLayerLink(plan.pupmode) === null) return [];
  return [
    {
      op: "write",
      path: join(partitionPath(plan, s.partition), FSCK_FLAG),
      text: fsckFlagText({
        partition: s.partition,
        fstype: s.fstype ?? "",
        file: s.kind === "file" ? (s.path ?? "") : "",
      }),
    },
  ];
}

/**
 * The hand-over: PUPSTATE, BOOTCONFIG, the initrd's spec files; the
 * partitions not needed unmounted; every /pup_* and /mnt/* mount moved under
 * /initrd; the links that name the layers; /tmp in RAM.
 */
function handOverSteps(plan: Plan, formatVars: (v: Record<string, string>) => string): Step[] {
  const nr = NEW_ROOT;
  const initrd = (p: string): string => join(nr, "initrd", p);
  const ops: Op[] = [
    ...sessionMark(plan),
    { op: "mkdir", path: join(nr, "etc/rc.d") },
    { op: "write", path: join(nr, "etc/rc.d/PUPSTATE"), text: formatVars(plan.pupstate) },
    { op: "write", path: join(nr, "etc/rc.d/BOOTCONFIG"), text: formatVars(plan.bootconfig) },
    { op: "mkdir", path: initrd("/") },
    { op: "copy-if-any", from: "/DISTRO_SPECS", to: initrd("DISTRO_SPECS") },
    // The saver plans the next boot as the init would: it needs the initrd's BOOT_SPECS too.
    { op: "copy-if-any", from: "/BOOT_SPECS", to: initrd("BOOT_SPECS") },
    {
      op: "unmount-unneeded",
      keep: [...plan.keepMounted, ...(plan.layers.some((l) => l.source === "iso" && !l.ram) ? ["iso"] : [])],
    },
    { op: "move-under-initrd", newRoot: nr },
    ...layerLinks(plan).flatMap((l): Op[] => [
      { op: "remove", path: initrd(l.name) },
      { op: "symlink", path: initrd(l.name), target: join("/initrd", l.target) },
    ]),
    // /tmp lives in RAM, never in a save.
    { op: "remove", path: join(nr, "tmp") },
    { op: "symlink", path: join(nr, "tmp"), target: join("/initrd", TMPFS, "tmp") },
  ];
  const ramTmp = join(initrd(TMPFS), "tmp");
  if (plan.flags.nox) ops.push({ op: "write", path: join(ramTmp, "bootcnt.txt"), text: "" });
  // Puppy's flag for the running system's version-update steps.
  if (plan.upgrade.clean || plan.save.encrypted)
    ops.push({ op: "write", path: join(ramTmp, "version_update_flag"), text: "", when: "upgrade-clean" });
  if (plan.flags.xorgwizard) ops.push({ op: "write", path: join(ramTmp, "xwin_xorgwizard_cli"), text: "" });
  // The init's /tmp (its log, the save's generation record) goes along.
  ops.push({ op: "copy-tree", from: "/tmp", into: initrd("tmp") });
  return [{ name: "the hand-over", onFail: "abort", ops }];
}

/** The last steps: pfix=rdsh's shell with the stack ready, then /dev, /proc and /sys moved and the switch into the new root. */
export function switchSteps(plan: Plan): Step[] {
  const ops: Op[] = [];
  if (plan.flags.rdsh)
    ops.push({
      op: "shell",
      message: "pfix=rdsh: a shell before switch_root; the new root is at /pup_new; 'exit' goes on with the boot.",
    });
  ops.push({
    op: "umount-if-mounted",
    target: INITRD_MODULES_DIR,
    why: "the initrd's driver image, deleted with the initramfs",
  });
  ops.push(...["dev", "proc", "sys"].map((fs): Op => ({ op: "move", from: `/${fs}`, to: join(NEW_ROOT, fs) })), {
    op: "switch-root",
    newRoot: NEW_ROOT,
  });
  return [{ name: "the switch", onFail: "abort", ops }];
}

/** The steps that carry out a plan, in order, up to the switch into the new root. */
export function bootSteps(plan: Plan, formatVars: (v: Record<string, string>) => string): Step[] {
  if (plan.fatal) return [];
  const steps = [...checkSteps(plan), ...stackSteps(plan)];
  if (plan.modules.length)
    steps.push({
      name: "modules the initrd lacks",
      onFail: "skip",
      ops: [{ op: "modules-from-stack", root: NEW_ROOT, names: plan.modules, from: plan.modulesFrom ?? "pimod" }],
    });
  steps.push(...handOverSteps(plan, formatVars));
  return steps;
}
