// The executor's cases as data: a plan and what the fake is given, by name.
// The host tier runs each on Node.js (test/host/executor.test.ts, which also
// checks the calls line by line) and on QuickJS as the system ships it
// (test/engine/executor.ts), and requires the same calls from both.

import type { Plan } from "../../src/plan/types.js";
import type { ExecuteOptions } from "./executor-run.js";
import { disk, frugal, machine, part, plan, saveFile, saveFolder, SFS, Z } from "./machines.js";

export interface ExecutorCase {
  plan: Plan;
  options: ExecuteOptions;
}

export const oneDisk = (files: Parameters<typeof part>[2], fs = "ext4") =>
  machine([disk("sda", "ata", [part("sda1", fs, files)])]);

export const EXECUTOR_CASES = {
  pupmode5: (): ExecutorCase => ({ plan: plan(oneDisk(frugal()), "pfix=nocopy"), options: { mounts: ["sda1"] } }),
  saveFolder: (): ExecutorCase => ({
    plan: plan(oneDisk(frugal("", saveFolder("/tinysave"))), "pfix=nocopy"),
    options: { mounts: ["sda1"], files: { "/mnt/sda1/tinysave/upper/root/": "" } },
  }),
  saveFile: (): ExecutorCase => ({
    plan: plan(oneDisk(frugal("", { "/tinysave.4fs": saveFile() })), "pfix=nocopy"),
    options: { mounts: ["sda1"], files: { "/pup_loop/.gen/0003/root/": "", "/pup_loop/upper": "-> .gen/0003" } },
  }),
  savePartition: (): ExecutorCase => {
    const m = machine([
      disk("sda", "ata", [
        part("sda1", "ext4", frugal()),
        part("sda2", "ext4", { "/upper/etc/rc.d/PUPSTATE": { content: "PUPMODE=12\n" }, "/work": "dir" }),
      ]),
    ]);
    return {
      plan: plan(m, "psave=sda2:/ pfix=nocopy"),
      options: { mounts: ["sda1", "sda2"], files: { "/mnt/sda2/upper/etc/": "" } },
    };
  },
  pupmode13: (): ExecutorCase => ({
    plan: plan(
      machine([disk("sdb", "usb", [part("sdb1", "ext4", frugal("", saveFolder("/tinysave")))])]),
      "pfix=nocopy",
    ),
    options: { mounts: ["sdb1"], files: { "/mnt/sdb1/tinysave/upper/": "" } },
  }),
  pupmode66: (): ExecutorCase => ({
    plan: plan(oneDisk(frugal("", { "/tinysave66.tar.gz": 2 }), "vfat"), "pfix=nocopy"),
    options: { mounts: ["sda1"], files: { "/mnt/sda1/tinysave66.tar.gz": "x" } },
  }),
  pupmode77: (): ExecutorCase => {
    const files = { [`/${SFS}`]: 50, "/2026-01-01-10-00/root/a": 1, "/2026-02-01-10-00/root/b": 1 };
    return {
      plan: plan(machine([disk("sr0", "cd", [part("sr0", "iso9660", files)], { removable: true })]), "pfix=nocopy"),
      options: {
        mounts: ["sr0"],
        files: { "/mnt/sr0/2026-01-01-10-00/root/a": "old", "/mnt/sr0/2026-02-01-10-00/root/.wh.a": "" },
      },
    };
  },
  copyFails: (): ExecutorCase => ({
    plan: plan(oneDisk(frugal()), "pfix=copy"),
    options: {
      mounts: ["sda1"],
      files: { [`/mnt/sda1/${SFS}`]: "sfs", [`/mnt/sda1/${Z}`]: "z" },
      fail: (c) => (c === `cp /mnt/sda1/${SFS} /mnt/tmpfs/${SFS}` ? "No space left on device" : null),
    },
  }),
  optionalLayerFails: (): ExecutorCase => ({
    plan: plan(oneDisk(frugal("", { "/adrv_tiny_1.0.0.sfs": 5 })), "pfix=nocopy"),
    options: {
      mounts: ["sda1"],
      fail: (c) => (c.includes("/pup_a") && c.startsWith("mount -t squashfs") ? "wrong fs type, bad superblock" : null),
    },
  }),
  mainSfsFails: (): ExecutorCase => ({
    plan: plan(oneDisk(frugal()), "pfix=nocopy"),
    options: { mounts: ["sda1"], fail: (c) => (c.includes("/pup_ro2") ? "I/O error" : null) },
  }),
  unwound: (): ExecutorCase => ({
    plan: plan(oneDisk(frugal("", { "/tinysave.4fs": saveFile() })), "pfix=nocopy"),
    options: { mounts: ["sda1"], fail: (c) => (c === "write /tmp/save-layer" ? "read-only file system" : null) },
  }),
  fsckUnrepairable: (): ExecutorCase => ({
    plan: plan(oneDisk(frugal("", { "/tinysave.4fs": saveFile() })), "pfix=nocopy,fsck"),
    options: { mounts: ["sda1"], fsckStatus: { "/mnt/sda1/tinysave.4fs": 8 } },
  }),
} satisfies Record<string, () => ExecutorCase>;

export type ExecutorCaseName = keyof typeof EXECUTOR_CASES;
