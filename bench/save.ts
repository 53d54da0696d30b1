// `npm run bench`, the saver: a flash-mode merge of a change set (10,000
// small files and a few large ones, over a save that already holds the
// previous session) against `rsync -a` of the same change set, side by side,
// alternating, median of BENCH_ROUNDS. The saver is the build's own (QuickJS
// and the command's bytecode, as the system runs it). The merge flushes the
// save before it switches generations, so rsync is also timed followed by
// `sync -f`. The RAM layer is a tmpfs, as in the running system.

import { setDefaultPort } from "../src/port/default.js";
import { NodePort } from "../src/port/node.js";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SaveGenerations } from "../src/save/generations.js";
import { shippedRamstack } from "../src/build/shipped.js";
import { run } from "../src/sys/exec.js";

// The host side of the bench (its fixtures) works through Node.js's port.
setDefaultPort(new NodePort());

const SMALL = 10000;
const LARGE = [32, 16, 8]; // MiB

function fill(dir: string, seed: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const d = join(dir, "home/user/project", `d${i % 100}`);
    if (i < 100) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), `${seed} ${i}\n`.repeat(1 + (i % 20)));
  }
}

function timed(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The goal: the save takes at most this share of rsync -a's time for the same change set. */
export const GOAL_RATIO = 0.8;

export function benchSave(
  ramstack: readonly string[],
  work: string,
  rounds: number,
): { merge: number; rsync: number; rsyncSync: number } {
  rmSync(work, { recursive: true, force: true });
  // The previous session in the save; the RAM layer: every small file changed or new, plus large ones.
  const prev = join(work, "prev");
  fill(prev, "previous", SMALL / 2);
  // The RAM layer is a tmpfs, as in the running system (the saver's room check reads it as one).
  const ram = join(work, "ram");
  mkdirSync(ram, { recursive: true });
  run("mount", ["-t", "tmpfs", "-o", "size=1g", "tmpfs", ram]);
  try {
    return saveRounds(ramstack, work, prev, ram, rounds);
  } finally {
    run("umount", [ram]);
    rmSync(work, { recursive: true, force: true });
  }
}

function saveRounds(
  ramstack: readonly string[],
  work: string,
  prev: string,
  ram: string,
  rounds: number,
): { merge: number; rsync: number; rsyncSync: number } {
  fill(ram, "session", SMALL);
  LARGE.forEach((mib, i) =>
    writeFileSync(
      join(ram, `home/user/big${i}.bin`),
      run("head", ["-c", `${mib}M`, "/dev/urandom"], { binary: true }).stdoutBuf,
    ),
  );
  const merges: number[] = [];
  const rsyncs: number[] = [];
  const rsyncSyncs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // The saver: a save whose current generation is the previous session.
    const save = join(work, "save");
    rmSync(save, { recursive: true, force: true });
    const gens = new SaveGenerations(save);
    mkdirSync(save);
    const g = gens.begin();
    run("cp", ["-a", prev, g.path]);
    gens.commit(g.number);
    run("sync");
    merges.push(
      timed(() => run(ramstack[0]!, [...ramstack.slice(1), "save", "--save-dir", save, "--ram", ram, "--keep", "0"])),
    );
    // rsync: a copy of the previous session receives the same change set.
    const dest = join(work, "dest");
    rmSync(dest, { recursive: true, force: true });
    run("cp", ["-a", prev, dest]);
    run("sync");
    rsyncs.push(timed(() => run("rsync", ["-a", `${ram}/`, `${dest}/`])));
    rmSync(dest, { recursive: true, force: true });
    run("cp", ["-a", prev, dest]);
    run("sync");
    rsyncSyncs.push(
      timed(() => {
        run("rsync", ["-a", `${ram}/`, `${dest}/`]);
        run("sync", ["-f", dest]);
      }),
    );
  }
  return { merge: median(merges), rsync: median(rsyncs), rsyncSync: median(rsyncSyncs) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const build = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "out/tiny";
  const tmp = join(process.env.TMPDIR ?? "/tmp", `ramstack-bench-save-${process.pid}`);
  const ramstack = shippedRamstack(build, `${tmp}-runtime`);
  const r = benchSave(ramstack, tmp, rounds);
  rmSync(`${tmp}-runtime`, { recursive: true, force: true });
  const result = {
    changeSet: { smallFiles: SMALL, largeMiB: LARGE },
    seconds: r,
    ratio: r.merge / r.rsync,
    ratioWithSync: r.merge / r.rsyncSync,
    goal: GOAL_RATIO,
  };
  if (process.argv.includes("--json")) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`Saving ${SMALL} small files and ${LARGE.join("+")} MiB over a previous save (median of ${rounds}):`);
    console.log(`  ramstack save on QuickJS (new generation, flushed)  ${r.merge.toFixed(2)} s`);
    console.log(`  rsync -a (not flushed)                              ${r.rsync.toFixed(2)} s`);
    console.log(`  rsync -a + sync -f                                  ${r.rsyncSync.toFixed(2)} s`);
    console.log(
      `  ratio vs rsync -a                                   ${result.ratio.toFixed(2)} (goal <= ${GOAL_RATIO})`,
    );
    console.log(`  ratio vs rsync -a + sync -f                         ${result.ratioWithSync.toFixed(2)}`);
  }
}
