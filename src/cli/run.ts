// `ramstack run`: boot a build in QEMU, interactively or to run commands.

import { join, resolve } from "node:path";
import { readManifest } from "../build/build.js";
import { run } from "../sys/exec.js";
import type { PartFs } from "../build/disk.js";
import { frugalDisk } from "../vm/frugal-disk.js";
import type { DiskBus, VmDisk } from "../vm/qemu.js";
import { DISK_BUSES, qemuArgs, withVm } from "../vm/qemu.js";
import type { OptionDef } from "./args.js";
import { optionsHelp, parseArgs, UsageError } from "./args.js";

const OPTIONS: OptionDef[] = [
  { name: "cmdline", value: "TEXT", help: "boot parameters added to the kernel command line" },
  { name: "bus", value: "BUS", help: `how the boot disk is attached: ${DISK_BUSES.join(", ")} (default virtio)` },
  { name: "psubdir", value: "DIR", help: "put the frugal files in this directory of the boot disk" },
  { name: "label", value: "LABEL", help: "the boot partition's label (default RAMSTACK)" },
  { name: "fs", value: "FS", help: "the boot partition's filesystem: ext2, ext3, ext4, vfat (default ext4)" },
  { name: "disk", value: "FILE[:BUS]", repeat: true, help: "attach another disk image (BUS as above, default virtio)" },
  { name: "mem", value: "MiB", help: "guest memory (default 1024)" },
  { name: "exec", value: "CMD", repeat: true, help: "run CMD in the guest's shell, print its output, then power off" },
  { name: "timeout", value: "SEC", help: "with --exec: how long the boot may take (default 180)" },
  { name: "print-args", help: "print the QEMU command instead of running it" },
  { name: "help", help: "show this help" },
];

export const RUN_HELP = `Usage: ramstack run BUILD_DIR [--cmdline "..."] [--bus usb] [--exec CMD ...]

Boots a build in QEMU (software emulation; RAMSTACK_ACCEL=kvm where KVM
works). The build's frugal files go on a disk image of their own, attached
as a virtio, SATA, USB, NVMe, SD or CD drive, and the kernel and initrd are
handed to QEMU. Without --exec the serial console is on this terminal
(Ctrl-A X quits). With --exec each command runs in the guest's shell, its
output is printed, and the guest is powered off; the exit status is 1 when a
command failed.

${optionsHelp(OPTIONS)}`;

function bus(text: string, what: string): DiskBus {
  if (!DISK_BUSES.includes(text as DiskBus)) throw new UsageError(`${what}: '${text}' is not one of ${DISK_BUSES.join(", ")}`);
  return text as DiskBus;
}

export async function runRun(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, OPTIONS);
  if (a.flags.has("help")) {
    out(RUN_HELP);
    return 0;
  }
  const [dir, ...more] = a.positional;
  if (dir === undefined) throw new UsageError("name a build directory (made by 'ramstack build')");
  if (more.length) throw new UsageError(`unexpected argument '${more[0]}'`);
  const build = resolve(dir);
  readManifest(build);
  const opt = (n: string): string | undefined => a.options.get(n)?.[0];
  const fs = (opt("fs") ?? "ext4") as PartFs;
  if (!["ext2", "ext3", "ext4", "vfat"].includes(fs)) throw new UsageError(`--fs '${fs}' is not one of ext2, ext3, ext4, vfat`);
  const mem = Number(opt("mem") ?? 1024);
  if (!Number.isInteger(mem) || mem < 128) throw new UsageError("--mem takes a number of MiB, at least 128");
  const timeout = Number(opt("timeout") ?? 180);
  if (!(timeout > 0)) throw new UsageError("--timeout takes a number of seconds");
  const psubdir = opt("psubdir") ?? "";
  const bootDisk = frugalDisk({ build, psubdir, label: opt("label") ?? "RAMSTACK", fstype: fs, table: "mbr" });
  const disks: VmDisk[] = [{ file: bootDisk, bus: bus(opt("bus") ?? "virtio", "--bus") }];
  for (const d of a.options.get("disk") ?? []) {
    const m = /^(.*?)(?::(\w+))?$/.exec(d)!;
    disks.push({ file: resolve(m[1]!), bus: bus(m[2] ?? "virtio", `--disk ${d}`) });
  }
  const cmdline = [`console=ttyS0`, psubdir ? `psubdir=${psubdir}` : "", opt("cmdline") ?? ""].filter(Boolean).join(" ");
  const vmOpts = { kernel: join(build, "vmlinuz"), initrd: join(build, "initrd.gz"), append: cmdline, disks, memMiB: mem };

  if (a.flags.has("print-args")) {
    out(["qemu-system-x86_64", ...qemuArgs(vmOpts)].map((x) => (/^[\w,.:=/@+-]+$/.test(x) ? x : `'${x}'`)).join(" "));
    return 0;
  }
  const commands = a.options.get("exec") ?? [];
  if (commands.length === 0) {
    // The console belongs to the user: QEMU's monitor is multiplexed on it (Ctrl-A X quits).
    const args = qemuArgs(vmOpts).map((x) => (x === "stdio" ? "mon:stdio" : x));
    const r = run("qemu-system-x86_64", args, { inherit: true, allowFail: true });
    return r.status === 0 ? 0 : 1;
  }
  return withVm({ ...vmOpts, echo: (t) => process.stderr.write(t) }, async (vm) => {
    const up = await vm.waitFor(/ramstack: system up|The boot cannot go on/, timeout * 1000);
    if (!up[0].startsWith("ramstack")) out("The boot stopped in the initrd; the commands run in its shell.");
    await vm.shellReady(30000);
    let failed = false;
    for (const c of commands) {
      const r = await vm.run(c, 120000);
      out(`$ ${c}`);
      if (r.out) out(r.out);
      if (r.status !== 0) {
        out(`(exit ${r.status})`);
        failed = true;
      }
    }
    vm.send("poweroff -f\n");
    return failed ? 1 : 0;
  });
}
