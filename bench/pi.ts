// `npm run bench`, the Raspberry Pi: an SD card image (ramstack image
// --board rpi3) booted on QEMU's raspi3b, side by side with a busybox sh
// /init doing the same mounts from the same card (bench/baseline.ts),
// interleaved, median of BENCH_ROUNDS. Measured: the whole boot, from the
// kernel's first timestamp to the system's first line (its uptime), and
// the card image's size before it grows.
//
//   node dist/bench/pi.js out/tiny-arm64/ramstack-rpi3.img [--json]

import { copyFileSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ImageManifest } from "../src/build/image.js";
import { readImageManifest } from "../src/build/image.js";
import { listBootFiles } from "../src/build/pi-image.js";
import { run } from "../src/sys/exec.js";
import { piCardVm } from "../src/vm/pi-card.js";
import { withVm } from "../src/vm/qemu.js";
import { buildBaselineInitrd, PI_BASELINE } from "./baseline.js";

export const PI_GOALS = { bootRatio: 1.3, imageMiB: 64 };

const SYSTEM_UP = /ramstack: system up .* at (\d+\.\d+) s/;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One boot of a copy of the (already grown) card, with the card's initrd or another; the system's first line's uptime. */
async function boot(card: string, m: ImageManifest, initrd: string | null): Promise<number> {
  const copy = `${card}.boot`;
  run("cp", ["--sparse=always", card, copy]);
  try {
    const vm = piCardVm(copy, m);
    return await withVm({ ...vm, ...(initrd ? { initrd } : {}) }, async (v) => {
      const up = await v.waitFor(SYSTEM_UP, 300000);
      return Number(up[1]);
    });
  } finally {
    rmSync(copy, { force: true });
  }
}

async function main(): Promise<void> {
  const image = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "out/tiny-arm64/ramstack-rpi3.img";
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const m = readImageManifest(image);
  if (!m?.board) throw new Error(`${image} is not a Raspberry Pi card (ramstack image BUILD --board rpi3)`);
  const imageMiB = statSync(image).size / 1048576;
  const work = join(dirname(image), "bench-pi");
  mkdirSync(work, { recursive: true });
  // The card as after its first boot: its save partition already fills it, so no boot grows it.
  const card = join(work, "card.img");
  copyFileSync(image, card);
  await withVm(piCardVm(card, m), (vm) => vm.waitFor(SYSTEM_UP, 300000));
  const names = sfsOnCard(card, m);
  const puppy = names.find((f) => f.startsWith("puppy_"))!;
  const zdrv = names.find((f) => f.startsWith("zdrv_"))!;
  const baseline = buildBaselineInitrd(work, puppy, zdrv, PI_BASELINE);
  const ours: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < rounds; i++) {
    base.push(await boot(card, m, baseline));
    ours.push(await boot(card, m, null));
    process.stderr.write(
      `round ${i + 1}/${rounds}: ramstack ${ours[i]!.toFixed(2)} s, busybox sh ${base[i]!.toFixed(2)} s\n`,
    );
  }
  const result = {
    rounds,
    board: "rpi3 (QEMU raspi3b, TCG)",
    wholeBootSeconds: {
      ramstack: median(ours),
      busyboxSh: median(base),
      ratio: median(ours) / median(base),
      goal: PI_GOALS.bootRatio,
    },
    imageMiB: { ramstack: imageMiB, goal: PI_GOALS.imageMiB },
  };
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const w = result.wholeBootSeconds;
  console.log(`A Raspberry Pi 3 B's card, ramstack's init against a busybox sh init (median of ${rounds}):`);
  console.log(
    `  whole boot (kernel start to system)  ${w.ramstack.toFixed(2)} s vs ${w.busyboxSh.toFixed(2)} s: ratio ${w.ratio.toFixed(2)} (goal <= ${w.goal})`,
  );
  console.log(`  card image before it grows           ${imageMiB.toFixed(1)} MiB (goal <= ${PI_GOALS.imageMiB})`);
}

/** The SFS files on the card's boot partition. */
const sfsOnCard = (card: string, m: ImageManifest): string[] =>
  listBootFiles(card, m).filter((f) => f.endsWith(".sfs"));

await main();
