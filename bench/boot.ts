// `npm run bench`: the init's cost, side by side with a baseline. Both boot
// the same kernel, disk and system in QEMU; the baseline's /init is a
// busybox sh script doing the same mounts with everything hard-coded. The
// time is the guest's own clock from "Run /init" to the system's first
// line, so console speed and host load count the same for both.
//
// A third initrd is the floor for any init on Node.js: the baseline's
// script, but it first starts node from the same runtime and lets it exit.
// What ramstack takes above that floor is its own init's work.

import { mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readManifest } from "../src/build/build.js";
import { writeInitrd } from "../src/build/cpio.js";
import { fetchComponents, scratchDir } from "../src/build/components.js";
import { installModules, moduleClosure } from "../src/build/modules.js";
import { installBusybox, runtimeTree } from "../src/build/trees.js";
import { frugalDisk } from "../src/vm/frugal-disk.js";
import { run } from "../src/sys/exec.js";
import { withVm } from "../src/vm/qemu.js";

const BASELINE_MODULES = ["virtio_pci", "virtio_blk", "crc32c_generic", "ext4", "squashfs", "loop", "overlay"];

function baselineInit(release: string, puppy: string, zdrv: string, startNode: boolean): string {
  return `#!/bin/busybox sh
export PATH=/bin
busybox mount -t proc proc /proc
busybox mount -t sysfs sysfs /sys
busybox mount -t devtmpfs devtmpfs /dev
${startNode ? "LD_LIBRARY_PATH=/runtime/lib /runtime/bin/node -e 0\n" : ""}modprobe -a ${BASELINE_MODULES.join(" ")}
while [ ! -e /dev/vda1 ]; do usleep 20000; done
mkdir -p /mnt/vda1 /mnt/tmpfs /pup_ro2 /pup_z /pup_new
mount -t ext4 -o noatime /dev/vda1 /mnt/vda1
mount -t tmpfs -o size=50% tmpfs /mnt/tmpfs
mkdir -p /mnt/tmpfs/pup_rw /mnt/tmpfs/pup_work
mount -t squashfs -o loop,ro /mnt/vda1/${puppy} /pup_ro2
mount -t squashfs -o loop,ro /mnt/vda1/${zdrv} /pup_z
mount -t overlay -o lowerdir=/pup_ro2:/pup_z,upperdir=/mnt/tmpfs/pup_rw,workdir=/mnt/tmpfs/pup_work overlay /pup_new
for m in /mnt/vda1 /mnt/tmpfs /pup_ro2 /pup_z; do mkdir -p /pup_new/initrd$m; mount -o move $m /pup_new/initrd$m; done
echo "PUPMODE='5'" > /pup_new/etc/rc.d/PUPSTATE
for m in dev proc sys; do mount -o move /$m /pup_new/$m; done
exec switch_root /pup_new /sbin/init
# kernel ${release}
`;
}

/** The baseline's initrd; with `startNode`, the Node.js floor's (the runtime ramstack's initrd carries, and one `node -e 0`). */
function buildBaselineInitrd(dir: string, puppy: string, zdrv: string, startNode: boolean): string {
  const c = fetchComponents(() => undefined);
  const tree = scratchDir("baseline-initrd");
  installBusybox(tree, c.busybox.binary, false);
  for (const d of ["dev", "proc", "sys", "tmp", "mnt"]) mkdirSync(join(tree, d), { recursive: true });
  writeFileSync(join(tree, "init"), baselineInit(c.kernel.release, puppy, zdrv, startNode), { mode: 0o755 });
  installModules(
    c.kernel.root,
    c.kernel.release,
    moduleClosure(c.kernel.root, c.kernel.release, BASELINE_MODULES).files,
    tree,
  );
  if (startNode) {
    runtimeTree(join(tree, "runtime"), c);
    symlinkSync("runtime/lib", join(tree, "lib64"));
  }
  const out = join(dir, startNode ? "node-floor-initrd.gz" : "baseline-initrd.gz");
  writeInitrd(tree, out, 1767225600);
  rmSync(tree, { recursive: true, force: true });
  return out;
}

/**
 * Seconds from "Run /init" to the system's first line, by the guest's clock.
 * Each boot gets a fresh copy of the disk: a save left by an earlier boot
 * would make it a PUPMODE 12 boot, with more to do than the baseline.
 */
async function bootSeconds(kernel: string, initrd: string, pristine: string): Promise<number> {
  const disk = `${pristine}.boot`;
  run("cp", ["--sparse=always", pristine, disk]);
  try {
    return await withVm(
      { kernel, initrd, append: "console=ttyS0", disks: [{ file: disk, bus: "virtio" }], cpus: CPUS },
      async (vm) => {
        const start = await vm.waitFor(/\[\s*(\d+\.\d+)\] Run \/init as init process/, 120000);
        const end = await vm.waitFor(/ramstack: system up .* at (\d+\.\d+) s/, 180000);
        return Number(end[1]) - Number(start[1]);
      },
    );
  } finally {
    rmSync(disk, { force: true });
  }
}

/** BENCH_CPUS: the guest's vCPUs (1 by default, as `ramstack run`). */
const CPUS = Number(process.env.BENCH_CPUS ?? 1);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const build = process.argv[2] ?? "out/tiny";
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const m = readManifest(build);
  const puppy = Object.keys(m.files).find((f) => f.startsWith("puppy_"))!;
  const zdrv = Object.keys(m.files).find((f) => f.startsWith("zdrv_"))!;
  const work = join(build, "bench");
  mkdirSync(work, { recursive: true });
  const disk = frugalDisk({ build, psubdir: "", label: "RAMSTACK", fstype: "ext4", table: "mbr" });
  const baseline = buildBaselineInitrd(work, puppy, zdrv, false);
  const floor = buildBaselineInitrd(work, puppy, zdrv, true);
  const kernel = join(build, "vmlinuz");
  const ours: number[] = [];
  const base: number[] = [];
  const nodeFloor: number[] = [];
  // Interleave the three, so that a slow moment of the host hits all alike.
  for (let i = 0; i < rounds; i++) {
    base.push(await bootSeconds(kernel, baseline, disk));
    nodeFloor.push(await bootSeconds(kernel, floor, disk));
    ours.push(await bootSeconds(kernel, join(build, "initrd.gz"), disk));
    process.stderr.write(
      `round ${i + 1}/${rounds}: ramstack ${ours[i]!.toFixed(2)} s, busybox sh ${base[i]!.toFixed(2)} s, node -e 0 + busybox sh ${nodeFloor[i]!.toFixed(2)} s\n`,
    );
  }
  const initrdMiB = statSync(join(build, "initrd.gz")).size / 1048576;
  const baseMiB = statSync(baseline).size / 1048576;
  const result = {
    rounds,
    cpus: CPUS,
    runInitToSystemSeconds: {
      ramstack: median(ours),
      busyboxSh: median(base),
      nodeFloor: median(nodeFloor),
      ratio: median(ours) / median(base),
      floorRatio: median(nodeFloor) / median(base),
      goal: 1.2,
    },
    initrdMiB: { ramstack: initrdMiB, busyboxSh: baseMiB, goal: 30 },
  };
  const r = result.runInitToSystemSeconds;
  if (process.argv.includes("--json")) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`'Run /init' to the system's first line (median of ${rounds}, TCG, ${CPUS} vCPU):`);
    console.log(`  ramstack init (Node.js)         ${r.ramstack.toFixed(2)} s`);
    console.log(`  busybox sh init                 ${r.busyboxSh.toFixed(2)} s`);
    console.log(`  ratio                           ${r.ratio.toFixed(2)} (goal <= 1.2)`);
    console.log(
      `  node -e 0, then busybox sh init ${r.nodeFloor.toFixed(2)} s: the floor for an init on Node.js, ratio ${r.floorRatio.toFixed(2)}`,
    );
    console.log(
      `initrd size: ramstack ${initrdMiB.toFixed(1)} MiB (goal <= 30), busybox sh baseline ${baseMiB.toFixed(1)} MiB`,
    );
  }
}

await main();
