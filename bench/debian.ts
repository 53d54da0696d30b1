// `npm run bench`, the debian profile: its size, its RAM and its boot, side
// by side with the tiny profile in one run. Both boot the same kernel in
// QEMU (TCG, 1 vCPU, 1024 MiB, user-mode networking) from a fresh copy of
// their own frugal disk, interleaved so a slow moment of the host hits both
// alike (median of BENCH_ROUNDS):
//
//  - main SFS + bdrv, the system a user lives in: as built (zstd:19 by
//    default) and with xz, the goal's measure (made again from the SFS's
//    files when the build is not xz);
//  - boot to a shell on the console (the debian profile logs root in on its
//    own, so its shell is its login prompt): the guest's uptime when a
//    shell first answers, asked every 250 ms from the init's hand-over on
//    (the debian profile's login comes before the rest of its start, which
//    "ramstack: system up" ends);
//  - RAM used once the system is up and, on debian, eth0 has its address.
//    Judged by what the system holds: memory neither free nor a cache the
//    kernel can drop (MemTotal − MemFree − Buffers − Cached − SReclaimable,
//    tmpfs's Shmem counted back in): processes, tmpfs, the kernel's own
//    slab, stacks and page tables. Shown beside it: what the guest's free(1)
//    prints as used, and MemTotal − MemAvailable, which also counts the
//    kernel's free-page reserve (tens of MiB on a 1 GiB guest, the same for
//    any system) and so is no measure of a system's size.

import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { readManifest } from "../src/build/build.js";
import { compressorOf, guestFreeUsedKiB, guestMeminfo, heldKiB, median, MiB, xzMiB } from "./common.js";
import { frugalDisk } from "../src/vm/frugal-disk.js";
import { run } from "../src/sys/exec.js";
import type { Vm } from "../src/vm/qemu.js";
import { withVm } from "../src/vm/qemu.js";

/** The goals. */
export const GOALS = { systemMiB: 80, usedMiB: 80, bootRatio: 1.5 };

interface Boot {
  /** "ramstack: system up", by the guest's clock. */
  systemUp: number;
  /** The first answer of a shell on the console, by the guest's clock. */
  shell: number;
  /** kB, as /proc/meminfo says. */
  mem: Record<string, number>;
  /** kB, the "used" column of the guest's own free(1). */
  freeUsed: number;
}

/** The guest's uptime when a shell first answers: the typed line is repeated until one does. */
async function shellUptime(vm: Vm, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (let n = 0; Date.now() < deadline; n++) {
    // The echo of the typed line holds the command; only the shell's answer has the number after the mark.
    vm.send(`echo ":::UP${n}" $(cut -d' ' -f1 /proc/uptime)\n`);
    const m = await vm.waitFor(/^:::UP\d+ (\d+\.\d+)\r?$/m, 250).catch(() => null);
    if (m) return Number(m[1]);
  }
  throw new Error("no shell answered on the console");
}

async function boot(build: string, pristine: string, waitNet: boolean): Promise<Boot> {
  const disk = `${pristine}.boot`;
  run("cp", ["--sparse=always", pristine, disk]);
  try {
    return await withVm(
      {
        kernel: join(build, "vmlinuz"),
        initrd: join(build, "initrd.gz"),
        append: "console=ttyS0",
        disks: [{ file: disk, bus: "virtio" }],
        cpus: 1,
        memMiB: 1024,
        net: { forwards: [] },
      },
      async (vm) => {
        await vm.waitFor(/Switching to the layered root/, 300000);
        const shell = await shellUptime(vm, 120000);
        const up = await vm.waitFor(/ramstack: system up .* at (\d+\.\d+) s/, 300000);
        await vm.shellReady(30000);
        if (waitNet)
          await vm.check(
            "i=0; until ip -4 -o addr show eth0 | grep -q inet; do i=$((i+1)); [ $i -lt 120 ] || exit 1; sleep 0.5; done",
            90000,
          );
        // What the boot started settles (a DHCP client's renewal timer, a getty's login).
        await vm.check("sleep 5");
        const mem = await guestMeminfo(vm);
        const freeUsed = await guestFreeUsedKiB(vm);
        return { systemUp: Number(up[1]), shell, mem, freeUsed };
      },
    );
  } finally {
    rmSync(disk, { force: true });
  }
}

/** What the system holds (the goal's measure), the other two ways of counting, and the parts that have names. */
function used(rs: Boot[]): Record<string, number> {
  const m = (k: string): number => MiB(median(rs.map((r) => r.mem[k]!)));
  return {
    held: MiB(median(rs.map((r) => heldKiB(r.mem)))),
    freeUsed: MiB(median(rs.map((r) => r.freeUsed))),
    totalLessAvailable: MiB(median(rs.map((r) => r.mem.MemTotal! - r.mem.MemAvailable!))),
    processes: m("AnonPages"),
    tmpfsAndInitramfs: m("Shmem"),
    kernelUnreclaimable: m("SUnreclaim") + m("KernelStack") + m("PageTables"),
  };
}

async function main(): Promise<void> {
  const [debianDir = "out/debian", tinyDir = "out/tiny"] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const d = readManifest(debianDir);
  const fileOf = (prefix: string): string | undefined => {
    const f = Object.keys(d.files).find((n) => n.startsWith(prefix));
    return f && join(debianDir, f);
  };
  const sizeOf = (prefix: string): number => {
    const f = fileOf(prefix);
    return f ? statSync(f).size / 1048576 : 0;
  };
  const xzOf = (prefix: string): number => {
    const f = fileOf(prefix);
    return f ? xzMiB(f) : 0;
  };
  const builtWith = compressorOf(fileOf("bdrv_")!);
  const xz = { main: xzOf("puppy_"), bdrv: xzOf("bdrv_") };
  const disks = {
    debian: frugalDisk({ build: debianDir, psubdir: "", label: "RAMSTACK", fstype: "ext4", table: "mbr" }),
    tiny: frugalDisk({ build: tinyDir, psubdir: "", label: "RAMSTACK", fstype: "ext4", table: "mbr" }),
  };
  const deb: Boot[] = [];
  const tiny: Boot[] = [];
  for (let i = 0; i < rounds; i++) {
    tiny.push(await boot(tinyDir, disks.tiny, false));
    deb.push(await boot(debianDir, disks.debian, true));
    process.stderr.write(
      `round ${i + 1}/${rounds}: shell at ${deb.at(-1)!.shell.toFixed(2)} s debian, ${tiny.at(-1)!.shell.toFixed(2)} s tiny\n`,
    );
  }
  const med = (rs: Boot[], k: "systemUp" | "shell"): number => median(rs.map((r) => r[k]));
  const result = {
    rounds,
    systemMiB: {
      compression: builtWith,
      main: sizeOf("puppy_"),
      bdrv: sizeOf("bdrv_"),
      total: sizeOf("puppy_") + sizeOf("bdrv_"),
      xz: { ...xz, total: xz.main + xz.bdrv },
      goal: GOALS.systemMiB,
    },
    zdrvMiB: sizeOf("zdrv_"),
    shellSeconds: {
      debian: med(deb, "shell"),
      tiny: med(tiny, "shell"),
      ratio: med(deb, "shell") / med(tiny, "shell"),
      goal: GOALS.bootRatio,
    },
    systemUpSeconds: { debian: med(deb, "systemUp"), tiny: med(tiny, "systemUp") },
    ramUsedMiB: { debian: used(deb), tiny: used(tiny), goal: GOALS.usedMiB },
  };
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const f = (n: number, p = 1): string => n.toFixed(p);
  const s = result.systemMiB;
  const b = result.shellSeconds;
  const ud = result.ramUsedMiB.debian;
  const ut = result.ramUsedMiB.tiny;
  console.log(`The debian profile against the tiny one (median of ${rounds}, TCG, 1 vCPU, 1024 MiB, user-mode net):`);
  console.log(
    `  main SFS + bdrv, xz                   ${f(s.xz.main)} + ${f(s.xz.bdrv)} = ${f(s.xz.total)} MiB (goal <= ${s.goal})`,
  );
  console.log(
    `    as built (${s.compression.padEnd(4)})                   ${f(s.main)} + ${f(s.bdrv)} = ${f(s.total)} MiB (zdrv ${f(result.zdrvMiB)} MiB)`,
  );
  console.log(
    `  boot to a shell on the console        ${f(b.debian, 2)} s vs ${f(b.tiny, 2)} s: ratio ${f(b.ratio, 2)} (goal <= ${b.goal})`,
  );
  console.log(
    `  'system up'                           ${f(result.systemUpSeconds.debian, 2)} s vs ${f(result.systemUpSeconds.tiny, 2)} s`,
  );
  console.log(
    `  RAM the system holds                  ${f(ud.held!, 0)} MiB vs ${f(ut.held!, 0)} MiB (goal <= ${result.ramUsedMiB.goal}, debian with eth0 up)`,
  );
  console.log(`    processes (AnonPages)               ${f(ud.processes!, 0)} MiB vs ${f(ut.processes!, 0)} MiB`);
  console.log(
    `    tmpfs and initramfs (Shmem)         ${f(ud.tmpfsAndInitramfs!, 0)} MiB vs ${f(ut.tmpfsAndInitramfs!, 0)} MiB`,
  );
  console.log(
    `    kernel slab, stacks, page tables    ${f(ud.kernelUnreclaimable!, 0)} MiB vs ${f(ut.kernelUnreclaimable!, 0)} MiB`,
  );
  console.log(`  "used" as the guest's free(1) says    ${f(ud.freeUsed!, 0)} MiB vs ${f(ut.freeUsed!, 0)} MiB`);
  console.log(
    `  MemTotal - MemAvailable               ${f(ud.totalLessAvailable!, 0)} MiB vs ${f(ut.totalLessAvailable!, 0)} MiB (counts the kernel's reserve)`,
  );
}

await main();
