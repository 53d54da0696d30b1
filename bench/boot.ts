// `npm run bench`: the init's cost, side by side with a baseline in one run.
// Both boot the same kernel, disk and system in QEMU; the baseline's /init is
// a busybox sh script doing the same mounts with everything hard-coded, in
// an initrd of busybox and the same modules. Measured, interleaved so a slow
// moment of the host hits both alike (median of BENCH_ROUNDS):
//
//  - the whole boot: the kernel's first timestamp to the system's first line
//    (its uptime, so the initrd's unpacking counts), and the part from
//    "Run /init" on;
//  - MemAvailable once the system is up and settled (1024 MiB guest), and
//    with the per-CPU free lists MemAvailable leaves out;
//  - the least RAM the guest boots with, found by stepping its memory;
//  - the initrd's size.

import { mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { readManifest } from "../src/build/build.js";
import { buildBaselineInitrd, PC_BASELINE } from "./baseline.js";
import { frugalDisk } from "../src/vm/frugal-disk.js";
import { run } from "../src/sys/exec.js";
import { withVm } from "../src/vm/qemu.js";

/** The goals: ratios and differences against the baseline, and the initrd's size. */
export const GOALS = { bootRatio: 1.15, minRamDiffMiB: 32, memAvailableDiffMiB: 16, initrdMiB: 6 };

interface BootResult {
  /** Kernel start to the system's first line, by the guest's clock. */
  whole: number;
  /** "Run /init" to the system's first line. */
  fromInit: number;
  memAvailableMiB: number;
  /**
   * Free pages on the per-CPU lists, which MemAvailable leaves out (the
   * kernel keeps up to ~54 MiB there on 1 GiB): ramstack's init returns the
   * pages it frees to the zone's lists, a plain switch_root leaves them on
   * the CPU's. Shown beside MemAvailable so the two compare either way.
   */
  perCpuFreeMiB: number;
}

/** How long the guest is left before its memory is read. */
const SETTLE_SECONDS = 3;

const SYSTEM_UP = /ramstack: system up .* at (\d+\.\d+) s/;
/** What a boot without enough RAM ends in (or it hangs, and the time limit ends it). */
const NO_RAM = /Kernel panic|Out of memory|not unpacked whole|Initramfs unpacking failed/;

/**
 * One boot of a fresh copy of the disk (a save left by an earlier boot would
 * make it a PUPMODE 12 boot, with more to do than the baseline). null when
 * the guest did not come up: too little RAM.
 */
async function boot(
  kernel: string,
  initrd: string,
  pristine: string,
  memMiB: number,
  measureMemory = true,
): Promise<BootResult | null> {
  const disk = `${pristine}.boot`;
  run("cp", ["--sparse=always", pristine, disk]);
  try {
    return await withVm(
      { kernel, initrd, append: "console=ttyS0", disks: [{ file: disk, bus: "virtio" }], cpus: CPUS, memMiB },
      async (vm) => {
        const done = await vm.waitFor(new RegExp(`${SYSTEM_UP.source}|${NO_RAM.source}`), 180000).catch(() => null);
        const up = done ? SYSTEM_UP.exec(done[0]) : null;
        if (!up) return null;
        const start = await vm.waitFor(/\[\s*(\d+\.\d+)\] Run \/init as init process/, 1000);
        await vm.shellReady(60000);
        if (!measureMemory) return { whole: Number(up[1]), fromInit: NaN, memAvailableMiB: NaN, perCpuFreeMiB: NaN };
        // Settled: what the boot left to finish in the background (drivers of devices it did not need) has done so.
        const mem = await vm.check(`sleep ${SETTLE_SECONDS}; cat /proc/meminfo; grep 'count:' /proc/zoneinfo`);
        const avail = /MemAvailable:\s+(\d+) kB/.exec(mem);
        const perCpuPages = [...mem.matchAll(/^\s*count:\s+(\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
        return {
          whole: Number(up[1]),
          fromInit: Number(up[1]) - Number(start[1]),
          memAvailableMiB: avail ? Number(avail[1]) / 1024 : NaN,
          perCpuFreeMiB: (perCpuPages * 4) / 1024,
        };
      },
    );
  } finally {
    rmSync(disk, { force: true });
  }
}

/** The least memory (MiB, in STEP steps) the guest boots with: a bisection between a failing and a working size. */
async function leastRam(kernel: string, initrd: string, disk: string): Promise<number> {
  const STEP = 8;
  let bad = 24;
  let good = 512;
  if (!(await boot(kernel, initrd, disk, good, false))) return NaN;
  while (good - bad > STEP) {
    const mid = Math.round((bad + good) / 2 / STEP) * STEP;
    if (mid <= bad || mid >= good) break;
    if (await boot(kernel, initrd, disk, mid, false)) good = mid;
    else bad = mid;
    process.stderr.write(`  least RAM: boots with ${good} MiB, not with ${bad} MiB\n`);
  }
  return good;
}

/** BENCH_CPUS: the guest's vCPUs (1 by default, as `ramstack run`). */
const CPUS = Number(process.env.BENCH_CPUS ?? 1);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const build = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "out/tiny";
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const m = readManifest(build);
  const puppy = Object.keys(m.files).find((f) => f.startsWith("puppy_"))!;
  const zdrv = Object.keys(m.files).find((f) => f.startsWith("zdrv_"))!;
  const work = join(build, "bench");
  mkdirSync(work, { recursive: true });
  const disk = frugalDisk({ build, psubdir: "", label: "RAMSTACK", fstype: "ext4", table: "mbr" });
  const baseline = buildBaselineInitrd(work, puppy, zdrv, PC_BASELINE);
  const kernel = join(build, "vmlinuz");
  const initrd = join(build, "initrd.gz");
  const ours: BootResult[] = [];
  const base: BootResult[] = [];
  for (let i = 0; i < rounds; i++) {
    const b = await boot(kernel, baseline, disk, 1024);
    const o = await boot(kernel, initrd, disk, 1024);
    if (!b || !o) throw new Error(`round ${i + 1}: a guest with 1024 MiB did not come up`);
    base.push(b);
    ours.push(o);
    process.stderr.write(
      `round ${i + 1}/${rounds}: whole boot ramstack ${o.whole.toFixed(2)} s, busybox sh ${b.whole.toFixed(2)} s\n`,
    );
  }
  const leastOurs = await leastRam(kernel, initrd, disk);
  const leastBase = await leastRam(kernel, baseline, disk);
  const med = (rs: BootResult[], k: keyof BootResult): number => median(rs.map((r) => r[k]));
  const result = {
    rounds,
    cpus: CPUS,
    wholeBootSeconds: {
      ramstack: med(ours, "whole"),
      busyboxSh: med(base, "whole"),
      ratio: med(ours, "whole") / med(base, "whole"),
      goal: GOALS.bootRatio,
    },
    runInitToSystemSeconds: {
      ramstack: med(ours, "fromInit"),
      busyboxSh: med(base, "fromInit"),
      ratio: med(ours, "fromInit") / med(base, "fromInit"),
    },
    memAvailableMiB: {
      ramstack: med(ours, "memAvailableMiB"),
      busyboxSh: med(base, "memAvailableMiB"),
      difference: med(base, "memAvailableMiB") - med(ours, "memAvailableMiB"),
      goal: GOALS.memAvailableDiffMiB,
    },
    memAvailableWithPerCpuListsMiB: {
      ramstack: median(ours.map((r) => r.memAvailableMiB + r.perCpuFreeMiB)),
      busyboxSh: median(base.map((r) => r.memAvailableMiB + r.perCpuFreeMiB)),
    },
    leastRamMiB: {
      ramstack: leastOurs,
      busyboxSh: leastBase,
      difference: leastOurs - leastBase,
      goal: GOALS.minRamDiffMiB,
    },
    initrdMiB: {
      ramstack: statSync(initrd).size / 1048576,
      busyboxSh: statSync(baseline).size / 1048576,
      goal: GOALS.initrdMiB,
    },
  };
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const f = (n: number, d = 2): string => n.toFixed(d);
  const w = result.wholeBootSeconds;
  const r = result.runInitToSystemSeconds;
  const a = result.memAvailableMiB;
  const l = result.leastRamMiB;
  const s = result.initrdMiB;
  console.log(`ramstack's init on QuickJS against a busybox sh init (median of ${rounds}, TCG, ${CPUS} vCPU):`);
  console.log(
    `  whole boot (kernel start to system)  ${f(w.ramstack)} s vs ${f(w.busyboxSh)} s: ratio ${f(w.ratio)} (goal <= ${w.goal})`,
  );
  console.log(`  'Run /init' to system                ${f(r.ramstack)} s vs ${f(r.busyboxSh)} s: ratio ${f(r.ratio)}`);
  console.log(
    `  MemAvailable after boot (1024 MiB)   ${f(a.ramstack, 0)} MiB vs ${f(a.busyboxSh, 0)} MiB: ${f(a.difference, 0)} MiB less (goal <= ${a.goal})`,
  );
  const p = result.memAvailableWithPerCpuListsMiB;
  console.log(
    `  with the per-CPU free lists          ${f(p.ramstack, 0)} MiB vs ${f(p.busyboxSh, 0)} MiB: ${f(p.busyboxSh - p.ramstack, 0)} MiB less`,
  );
  console.log(
    `  least RAM that boots                 ${l.ramstack} MiB vs ${l.busyboxSh} MiB: ${l.difference} MiB more (goal <= ${l.goal})`,
  );
  console.log(
    `  initrd                               ${f(s.ramstack, 1)} MiB vs ${f(s.busyboxSh, 1)} MiB (goal <= ${s.goal})`,
  );
}

await main();
