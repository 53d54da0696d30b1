// Host tier: the saver killed at random points (SIGKILL before the Nth step
// that changes the save, so no cleanup runs, as in a power cut). After each
// kill the save, once recovered as the init does at boot, must hold either the
// previous session or the new one, whole, and the older generation must be
// untouched.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { SaveGenerations } from "../../src/save/generations.js";
import { cli, makeTree, scratch, shippedRamstack } from "../helpers/system.js";

const ROUNDS = Number(process.env.RAMSTACK_CRASH_ROUNDS ?? 500);
/** The running system's saver runs on QuickJS; Node.js runs the same code on the host, checked with fewer rounds. */
const RUNTIMES = [
  { name: "QuickJS, as the system ships it", argv: (): string[] => shippedRamstack(), rounds: ROUNDS },
  { name: "Node.js", argv: (): string[] => [process.execPath, cli], rounds: Math.ceil(ROUNDS / 5) },
];

function sh(script: string): void {
  const r = spawnSync("sh", ["-ec", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
}

/** A layer as text: every path with its kind, mode, owner, content or target, device number, and user xattrs. */
function listing(dir: string): string {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = `${rel}/${name}`;
      const p = join(dir, r);
      const st = lstatSync(p);
      const head = `${r} ${(st.mode >>> 0).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        lines.push(`${head} dir`);
        walk(r);
      } else if (st.isSymbolicLink()) lines.push(`${head} -> ${readlinkSync(p)}`);
      else if (st.isFile()) lines.push(`${head} ${createHash("sha1").update(readFileSync(p)).digest("hex")}`);
      else lines.push(`${head} dev ${st.rdev}`);
    }
  };
  walk("");
  const x = spawnSync("getfattr", ["-R", "-P", "-h", "-d", "-m", "-", "-e", "hex", "."], {
    cwd: dir,
    encoding: "utf8",
  }).stdout;
  return `${lines.join("\n")}\n${x}`;
}

/** A small deterministic random sequence (the points are reproducible from the seed). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

for (const runtime of RUNTIMES)
  describe(`the saver on ${runtime.name}, killed at ${runtime.rounds} random points`, { timeout: 1200000 }, () => {
    let dir: string;
    let template: string;
    let oldView: string;
    let newView: string;
    let steps: number;
    let argv: string[];

    const save = (work: string, env: Record<string, string>): ReturnType<typeof spawnSync> =>
      spawnSync(
        argv[0]!,
        [
          ...argv.slice(1),
          "save",
          "--save-dir",
          join(work, "save"),
          "--ram",
          join(work, "ram"),
          "--lower",
          join(work, "lower"),
          "--keep",
          "1",
        ],
        {
          encoding: "utf8",
          env: { ...process.env, ...env },
        },
      );

    before(() => {
      argv = runtime.argv();
      dir = scratch("crash");
      template = join(dir, "template");
      makeTree(join(template, "lower"), {
        "etc/a": "lower\n",
        "usr/bin/tool": "tool\n",
        "opt/d/one": "1\n",
        "srv/dir/x": "x\n",
      });
      // Two generations already: the older one must survive every kill, and the prune of it must never half-happen.
      for (const [n, files] of [
        [1, { "root/old": "one\n", "etc/a": "saved one\n" }],
        [2, { "root/old": "two\n", "etc/a": "saved two\n", "home/h": "h\n" }],
      ] as const) {
        makeTree(join(template, "save/.gen", `000${n}`), files);
      }
      sh(`ln -s .gen/0002 ${template}/save/upper`);
      makeTree(join(template, "ram"), {
        "root/new": "new\n",
        "root/old": "three\n",
        "root/big": "b".repeat(200000),
        "opt/d/fresh": "f\n",
        "srv/dir": "now a file\n",
        "var/tmp/skip": "s\n",
        "home/a/": "",
        "home/a/deep/f": "deep\n",
      });
      sh(`cd ${template}/ram && mknod usr/bin/tool c 0 0 2>/dev/null || (mkdir -p usr/bin && mknod usr/bin/tool c 0 0)
        mknod home/h c 0 0
        ln -s /target root/link && ln root/new root/new-hardlink
        setfattr -n trusted.overlay.opaque -v y opt/d && setfattr -n user.k -v v root/new
        chown 1000:1000 root/new && chmod 600 root/old`);
      oldView = listing(join(template, "save/upper/"));
      const ref = join(dir, "reference");
      sh(`cp -a ${template} ${ref}`);
      const r = save(ref, { RAMSTACK_SAVE_COUNT_STEPS: join(dir, "steps") });
      assert.equal(r.status, 0, String(r.stderr));
      steps = Number(readFileSync(join(dir, "steps"), "utf8"));
      newView = listing(join(ref, "save/upper/"));
      assert.notEqual(newView, oldView);
      assert.ok(steps > 30, `only ${steps} steps`);
    });

    it("leaves the old session or the new one, whole, every time", () => {
      const rnd = random(20261122);
      const work = join(dir, "work");
      const outcomes = { old: 0, new: 0 };
      // Random points, and every one of the last steps (the switch and the prune, where "new" must win).
      const points = [
        ...Array.from({ length: runtime.rounds }, () => 1 + Math.floor(rnd() * steps)),
        ...Array.from({ length: 8 }, (_, k) => steps - k),
      ];
      for (const [i, at] of points.entries()) {
        sh(`rm -rf ${work} && cp -a ${template} ${work}`);
        const r = save(work, { RAMSTACK_SAVE_CRASH_AT: String(at) });
        assert.equal(
          r.signal,
          "SIGKILL",
          `round ${i}: the save was not killed at step ${at}/${steps}: ${String(r.stderr)}`,
        );
        // What the init does at boot.
        const gens = new SaveGenerations(join(work, "save"));
        gens.recover();
        const view = listing(join(work, "save/upper/"));
        assert.ok(
          view === oldView || view === newView,
          `round ${i}, killed before step ${at}/${steps}: the save is a mix of old and new`,
        );
        outcomes[view === oldView ? "old" : "new"]++;
        // Generation 2 (the previous session) is whole whenever it still exists; a prune either removed it whole or left it.
        const g2 = join(work, "save/.gen/0002");
        if (existsSync(g2)) assert.equal(listing(g2), oldView, `round ${i}: the previous generation changed`);
        assert.ok(
          !readdirSync(join(work, "save/.gen")).some((n) => /partial|pruning/.test(n)),
          `round ${i}: recovery left an unfinished generation`,
        );
      }
      // Both outcomes happen: kills land before and after the switch.
      assert.ok(outcomes.old > 0 && outcomes.new > 0, JSON.stringify(outcomes));
    });
  });
