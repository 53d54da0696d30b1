// A task's SFS layer: its packages installed by apt, as Debian installs
// them (maintainer scripts run, so alternatives, users and ldconfig are
// right), into an overlay whose lower layer is the debian profile's tree;
// the overlay's upper directory is the layer. It sits above bdrv and the
// main SFS at boot and holds exactly what the install changed: new and
// changed files, and overlay whiteouts for what it removed.

import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Progress } from "../lib/progress.js";
import { lineSplitter, run, runStreaming } from "../sys/exec.js";
import { sourcesScript, standInScript } from "../tasks/apt-prep.js";
import type { TaskDef } from "../tasks/table.js";
import { aptState, cacheDir } from "./cache.js";
import { scratchDir } from "./components.js";
import type { DebianBase } from "./debian-base.js";
import { writeSystemFiles } from "./debian-base.js";
import type { BuildInputs } from "./keys.js";
import { codeHash } from "./keys.js";
import { mksquashfsShowing } from "./squashfs.js";

/**
 * Left out of a task's layer: what apt and dpkg keep about the install
 * itself, fetched or made again. Removed from the upper directory itself
 * (not through the overlay), so the base's own copy shows again.
 */
const NOT_IN_LAYER = [
  "var/lib/apt/lists",
  "var/cache/apt",
  "var/cache/debconf/config.dat-old",
  "var/cache/debconf/templates.dat-old",
  "var/lib/dpkg/status-old",
  "var/lib/dpkg/diversions-old",
  "var/log/apt",
  "var/log/dpkg.log",
  "var/log/alternatives.log",
  "etc/resolv.conf",
  "usr/sbin/policy-rc.d",
  "root/.bash_history",
];

export function taskKey(i: BuildInputs, base: DebianBase, name: string, task: TaskDef): unknown {
  return {
    base: base.key,
    name,
    task,
    apt: aptState(),
    compression: i.compression,
    epoch: i.epoch,
    tools: { mksquashfs: i.tools.mksquashfs },
    code: codeHash(["task-layer.js"]),
  };
}

/** The install, in a private mount namespace: the overlay, the kernel's file systems, apt. */
function installScript(
  base: string,
  upper: string,
  work: string,
  mnt: string,
  debs: string,
  name: string,
  task: TaskDef,
): string {
  const files = Object.keys(task.files);
  const sources = sourcesScript(name, task);
  const standIns = standInScript(name, task);
  const inChroot = (cmd: string): string => `chroot ${mnt} /bin/sh -ec ${shq(cmd)}`;
  return [
    "set -e",
    `mount -t overlay -o lowerdir=${base},upperdir=${upper},workdir=${work},redirect_dir=off,index=off,metacopy=off,xino=off overlay ${mnt}`,
    `mount -t proc proc ${mnt}/proc`,
    `mount -t sysfs sysfs ${mnt}/sys`,
    `mount --rbind /dev ${mnt}/dev`,
    `mount -t tmpfs tmpfs ${mnt}/tmp`,
    // Downloads kept between builds; the host's name servers for apt.
    `mkdir -p ${mnt}/var/cache/apt/archives`,
    `mount --bind ${debs} ${mnt}/var/cache/apt/archives`,
    `cp -L /etc/resolv.conf ${mnt}/etc/resolv.conf`,
    // Nothing is started while installing (Debian's policy-rc.d: 101 = not allowed).
    `printf '#!/bin/sh\\nexit 101\\n' > ${mnt}/usr/sbin/policy-rc.d && chmod 755 ${mnt}/usr/sbin/policy-rc.d`,
    ...(sources ? [`echo "I: adding Debian's ${task.components!.join(" ")} archive area"`, inChroot(sources)] : []),
    `echo "I: apt-get update"`,
    inChroot("apt-get update -qq"),
    ...(standIns
      ? [`echo "I: leaving out ${task.leaveOut!.map((l) => l.name).join(" ")} (empty stand-ins)"`, inChroot(standIns)]
      : []),
    `echo "I: installing ${task.packages.join(" ")} and their dependencies"`,
    inChroot(
      `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 ${task.packages.join(" ")}`,
    ),
    ...(files.length ? [`echo "I: writing the task's files"`, `cp -a ${mnt}.files/. ${mnt}/`] : []),
    ...(task.setup.length ? [`echo "I: setting up"`, inChroot(task.setup.join("\n"))] : []),
    inChroot("ldconfig"),
    `umount ${mnt}/var/cache/apt/archives`,
    `umount ${mnt}/tmp`,
    `umount -R ${mnt}/dev`,
    `umount ${mnt}/sys ${mnt}/proc`,
    `umount ${mnt}`,
  ].join("\n");
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The task's layer as an SFS at OUT. */
export async function taskLayer(
  base: DebianBase,
  name: string,
  task: TaskDef,
  out: string,
  i: BuildInputs,
  p: Progress,
): Promise<void> {
  const dir = scratchDir("task");
  const upper = join(dir, "upper");
  const work = join(dir, "work");
  const mnt = join(dir, "root");
  const debs = join(cacheDir(), "task-debs");
  for (const d of [upper, work, mnt, debs, `${mnt}.files`]) mkdirSync(d, { recursive: true });
  writeSystemFiles(`${mnt}.files`, task.files);
  try {
    const said = lineSplitter((line) => {
      const m = /^I: (.*)$/.exec(line);
      if (m) p.note(m[1]!);
    });
    await runStreaming(
      "unshare",
      ["-m", "--propagation", "private", "sh", "-c", installScript(base.dir, upper, work, mnt, debs, name, task)],
      { onStdout: said, env: { ...process.env, SOURCE_DATE_EPOCH: String(i.epoch) } },
    );
    for (const rel of NOT_IN_LAYER) rmSync(join(upper, rel), { recursive: true, force: true });
    keepOverlayMarks(upper);
    await mksquashfsShowing(upper, out, { compression: i.compression, epoch: i.epoch, keepOwners: true }, p);
  } finally {
    run("rm", ["-rf", "--one-file-system", dir]);
  }
}

/**
 * The upper directory's overlay attributes, as a lower layer should have
 * them: an opaque mark hides what lies below, so it stays; the others
 * (origin, impure) describe this build's overlay only.
 */
function keepOverlayMarks(upper: string): void {
  const dump = run("getfattr", ["-R", "-h", "-m", "^trusted\\.overlay\\.", "--absolute-names", upper], {
    allowFail: true,
  }).stdout;
  let file = "";
  for (const line of dump.split("\n")) {
    const f = /^# file: (.*)$/.exec(line);
    if (f) file = f[1]!;
    const a = /^(trusted\.overlay\.[a-z]+)/.exec(line);
    if (a && a[1] !== "trusted.overlay.opaque") run("setfattr", ["-h", "-x", a[1]!, file]);
  }
}
