// `npm run bench`, the task layers: each layer's size (as built, and with
// xz, the goals' measure), and the RAM of the machine booted straight into
// Kodi (ptask=kodi pautostart=kodi), side by side with the same build booted
// without a task, in one run. QEMU under TCG, 1 vCPU, 1024 MiB, a virtio-vga
// screen drawn by llvmpipe (CPU model Nehalem), user-mode networking; Kodi
// is measured once its JSON-RPC says the home window is shown and the screen
// has settled. RAM is judged as bench/debian.ts judges it: what the system
// holds (bench/common.ts); free(1)'s "used" and MemTotal − MemAvailable are
// shown beside it.

import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { readManifest } from "../src/build/build.js";
import { run } from "../src/sys/exec.js";
import { TASK_NAMES } from "../src/tasks/table.js";
import { frugalDisk } from "../src/vm/frugal-disk.js";
import { withVm } from "../src/vm/qemu.js";
import { kodiWindow } from "../test/helpers/kodi.js";
import { freePort } from "../test/helpers/net.js";
import { compressorOf, guestFreeUsedKiB, guestMeminfo, heldKiB, MiB, xzMiB } from "./common.js";

/** The goals: each layer with xz, and the RAM of the Kodi appliance. */
export const GOALS = { layerMiB: { kodi: 220, retro: 250, webdev: 60 } as Record<string, number>, kodiUsedMiB: 300 };

interface Ram {
  held: number;
  freeUsed: number;
  totalLessAvailable: number;
  /** MiB, the biggest process's resident set, and its name. */
  top: { name: string; rssMiB: number };
}

/** Ask Kodi's JSON-RPC, through the forwarded port, for its window until it is Home. */
async function kodiHome(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await kodiWindow(port))?.id === 10000) return;
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
  throw new Error(`Kodi's home window was not shown within ${timeoutMs / 1000} s`);
}

async function bootRam(build: string, pristine: string, cmdline: string, kodi: boolean): Promise<Ram> {
  const disk = `${pristine}.boot`;
  run("cp", ["--sparse=always", pristine, disk]);
  const port = await freePort();
  try {
    return await withVm(
      {
        kernel: join(build, "vmlinuz"),
        initrd: join(build, "initrd.gz"),
        append: `console=ttyS0 ${cmdline}`.trim(),
        disks: [{ file: disk, bus: "virtio" }],
        cpus: 1,
        memMiB: 1024,
        net: { forwards: kodi ? [{ host: port, guest: 8080 }] : [] },
        display: true,
        cpu: "Nehalem",
      },
      async (vm) => {
        await vm.waitFor(/ramstack: system up/, 300000);
        await vm.shellReady(60000);
        if (kodi) await kodiHome(port, 600000);
        // The home screen is drawn some seconds after Kodi says Home; the boot's last steps settle.
        await vm.check("sleep 30", 60000);
        const mem = await guestMeminfo(vm);
        const freeUsed = await guestFreeUsedKiB(vm);
        const top = /^\s*(\d+)\s+(\S+)/m.exec(await vm.check("ps -eo rss=,comm= --sort=-rss | head -1"));
        return {
          held: MiB(heldKiB(mem)),
          freeUsed: MiB(freeUsed),
          totalLessAvailable: MiB(mem.MemTotal! - mem.MemAvailable!),
          top: { name: top?.[2] ?? "?", rssMiB: MiB(Number(top?.[1] ?? 0)) },
        };
      },
    );
  } finally {
    rmSync(disk, { force: true });
  }
}

async function main(): Promise<void> {
  const [buildDir = "out/debian"] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  const files = Object.keys(readManifest(buildDir).files);
  const layers = TASK_NAMES.flatMap((task) => {
    const f = files.find((n) => n.startsWith(`${task}_`) && n.endsWith(".sfs"));
    if (!f) return [];
    const path = join(buildDir, f);
    process.stderr.write(`sizing ${f} with xz\n`);
    return [
      {
        task,
        compression: compressorOf(path),
        builtMiB: statSync(path).size / 1048576,
        xzMiB: xzMiB(path),
        goal: GOALS.layerMiB[task] ?? null,
      },
    ];
  });
  let ram: { plain: Ram; kodi: Ram; goal: number } | null = null;
  if (layers.some((l) => l.task === "kodi")) {
    const pristine = frugalDisk({ build: buildDir, psubdir: "", label: "RAMSTACK", fstype: "ext4", table: "mbr" });
    process.stderr.write("booting without a task\n");
    const plain = await bootRam(buildDir, pristine, "", false);
    process.stderr.write("booting straight into Kodi\n");
    const kodi = await bootRam(buildDir, pristine, "ptask=kodi pautostart=kodi", true);
    ram = { plain, kodi, goal: GOALS.kodiUsedMiB };
  }
  const result = { layers, ram };
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const f = (n: number, p = 1): string => n.toFixed(p);
  console.log("Task layers (as built, and with xz, the goals' measure):");
  for (const l of layers)
    console.log(
      `  ${l.task.padEnd(8)} ${f(l.builtMiB).padStart(6)} MiB ${l.compression.padEnd(5)} ${f(l.xzMiB).padStart(6)} MiB xz` +
        (l.goal === null ? "" : ` (goal <= ${l.goal})`),
    );
  if (ram) {
    const { plain, kodi } = ram;
    console.log("RAM, booted straight into Kodi against the same build without a task (TCG, 1024 MiB, virtio-vga):");
    console.log(
      `  held by the system          ${f(kodi.held, 0)} MiB vs ${f(plain.held, 0)} MiB (goal <= ${ram.goal})`,
    );
    console.log(`  free(1) "used"              ${f(kodi.freeUsed, 0)} MiB vs ${f(plain.freeUsed, 0)} MiB`);
    console.log(
      `  MemTotal - MemAvailable     ${f(kodi.totalLessAvailable, 0)} MiB vs ${f(plain.totalLessAvailable, 0)} MiB`,
    );
    console.log(`  biggest process             ${kodi.top.name} ${f(kodi.top.rssMiB, 0)} MiB resident`);
  }
}

await main();
