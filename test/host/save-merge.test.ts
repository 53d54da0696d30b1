// Host tier: the flash-mode merge with real overlay mounts (in a private
// mount namespace). A session changes files through a real overlay, so the
// RAM layer holds the kernel's own whiteouts and opaque directories; after
// the merge, the save stacked on the same lower layers must show exactly
// what the session saw, and the previous generation must be unchanged.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { SaveGenerations } from "../../src/save/generations.js";
import { estimateMerge, mergeInto } from "../../src/save/merge.js";
import { cli, makeTree, scratch, shippedRamstack } from "../helpers/system.js";

/** Run a shell script in a private mount namespace; its stdout. */
function inNamespace(script: string): string {
  const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-ec", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`namespace script failed (${r.status}):\n${r.stderr}\n${script}`);
  return r.stdout;
}

/** Every path under a directory with its type, mode, owner, size, mtime, link target, content and user xattrs. */
const LISTING = (dir: string): string =>
  `( cd ${dir} && find . -mindepth 1 \\( -path ./tmp -o -path ./var/tmp \\) -prune -o -printf '%p %y %m %U:%G %s %T@ %l\\n' | sort; ` +
  `find . \\( -path ./tmp -o -path ./var/tmp \\) -prune -o -type f -exec md5sum {} + | sort; getfattr -R -h -d -m user. . 2>/dev/null | grep -v '^$' || true )`;

/** Listings are equal, times within a few microseconds (Node sets times through a double). */
function assertSameView(actual: string, expected: string): void {
  const split = (l: string): { shape: string; times: number[] } => ({
    shape: l.replace(/ \d+\.\d+ /g, " T "),
    times: Array.from(l.matchAll(/ (\d+\.\d+) /g), (m) => Number(m[1])),
  });
  const a = actual.split("\n").map(split);
  const e = expected.split("\n").map(split);
  assert.deepEqual(
    a.map((x) => x.shape),
    e.map((x) => x.shape),
  );
  a.forEach((x, i) =>
    x.times.forEach((t, j) =>
      assert.ok(Math.abs(t - e[i]!.times[j]!) < 3e-6, `time of '${x.shape}': ${t} vs ${e[i]!.times[j]}`),
    ),
  );
}

describe("merging a session into a save (real overlay mounts)", { timeout: 300000 }, () => {
  let dir: string;
  let lower: string;
  let ram: string;
  let gens: SaveGenerations;
  let sessionView: string;
  let baseBefore: string;

  before(() => {
    dir = scratch("merge");
    lower = makeTree(join(dir, "lower"), {
      "etc/a": "lower a\n",
      "etc/dir1/x": "x\n",
      "etc/dir1/y": "y\n",
      "usr/share/keep": "keep\n",
      "opt/d/one": "1\n",
      "opt/d/two": "2\n",
      "bin/tool": "tool\n",
      "srv/mode": "same content\n",
      "lib/sym/": "",
    });
    // The previous save: generation 1.
    gens = new SaveGenerations(join(dir, "save"));
    mkdirSync(gens.root);
    const g1 = gens.begin();
    makeTree(g1.path, { "root/old.txt": "old\n", "etc/a": "saved a\n", "home/u/f": "f\n" });
    gens.commit(g1.number);
    ram = join(dir, "ram");
    mkdirSync(ram);
    mkdirSync(join(dir, "work"));
    mkdirSync(join(dir, "view"));
    baseBefore = inNamespace(LISTING(gens.currentPath()!));
    // The session, through a real overlay: RAM layer on top of the save and the lower layer.
    sessionView = inNamespace(`
      mount -t overlay -o lowerdir=${gens.upper}:${lower},upperdir=${ram},workdir=${dir}/work,metacopy=off overlay ${dir}/view
      cd ${dir}/view
      echo new > root/new.txt
      echo changed > root/old.txt
      rm etc/dir1/x
      rm home/u/f
      rm bin/tool
      rm -rf opt/d && mkdir opt/d && echo fresh > opt/d/new
      rm -rf etc/dir1 && echo now-a-file > etc/dir1
      rm usr/share/keep && ln -s /somewhere usr/share/keep
      rmdir lib/sym && mkdir -p lib/sym/inner && echo in > lib/sym/inner/f
      echo linked > root/h1 && ln root/h1 root/h2
      setfattr -n user.color -v blue root/new.txt
      chmod 640 root/new.txt && chown 1000:1000 root/new.txt && touch -d '2020-02-02 02:02:02' root/new.txt
      chmod 600 srv/mode
      mkdir -p tmp var/tmp && echo scratch > tmp/x && echo scratch > var/tmp/y
      cd / && ${LISTING(`${dir}/view`)}
      umount ${dir}/view`);
    // The same session and save for the shipped QuickJS saver (cp -a keeps whiteouts and trusted.* as root).
    inNamespace(`cp -a ${gens.root} ${dir}/save-qjs && cp -a ${ram} ${dir}/ram-qjs`);
  });

  const viewOfSave = (): string =>
    inNamespace(
      `mount -t overlay -o lowerdir=${gens.upper}:${lower} overlay ${dir}/view; ${LISTING(`${dir}/view`)}; umount ${dir}/view`,
    );

  it("the save then shows what the session showed: new, changed, deleted, replaced, linked, attributed files", () => {
    const next = gens.begin();
    const stats = mergeInto(
      { ram, base: gens.currentPath(), target: next.path, lowers: [lower] },
      join(dir, "xattrs.tmp"),
    );
    gens.commit(next.number);
    assertSameView(viewOfSave(), sessionView);
    assert.ok(stats.whiteouts >= 1, "deleting a file of a lower layer leaves a whiteout in the save");
    assert.ok(stats.hardlinks >= 1);
  });

  it("on QuickJS, as the system ships it: the same merge gives the same view, the first generation untouched", () => {
    const [engine, ...args] = shippedRamstack();
    const save = `${dir}/save-qjs`;
    const out = inNamespace(
      `${engine} ${args.join(" ")} save --save-dir ${save} --ram ${dir}/ram-qjs --lower ${lower} --keep 5 --json`,
    );
    const { saved, stats } = JSON.parse(out) as { saved: boolean; stats: { whiteouts: number; hardlinks: number } };
    assert.ok(saved && stats.whiteouts >= 1 && stats.hardlinks >= 1, out);
    assertSameView(
      inNamespace(
        `mount -t overlay -o lowerdir=${save}/upper:${lower} overlay ${dir}/view; ${LISTING(`${dir}/view`)}; umount ${dir}/view`,
      ),
      sessionView,
    );
    assert.equal(inNamespace(LISTING(`${save}/.gen/0001`)), baseBefore);
  });

  it("leaves the previous generation exactly as it was", () => {
    const first = gens.list().find((g) => g.number === 1)!;
    assert.equal(inNamespace(LISTING(first.path)), baseBefore);
  });

  it("keeps Puppy's exclusions out of the save", () => {
    const cur = gens.currentPath()!;
    assert.equal(spawnSync("test", ["-e", join(cur, "tmp/x")]).status, 1);
    assert.equal(spawnSync("test", ["-e", join(cur, "var/tmp/y")]).status, 1);
  });

  it("merging the same session again changes nothing and writes no file", () => {
    // The estimate agrees: no file's data, only the new generation's directories (a block each).
    const dirs = Number(inNamespace(`find ${gens.currentPath()} -type d | wc -l`).trim());
    assert.equal(estimateMerge({ ram, base: gens.currentPath() }), dirs * 4096);
    // Against the first generation, each changed or new file is a block (all are small here).
    const first = gens.list().find((g) => g.number === 1)!.path;
    assert.ok(estimateMerge({ ram, base: first }) > estimateMerge({ ram, base: gens.currentPath() }));
    const next = gens.begin();
    const stats = mergeInto(
      { ram, base: gens.currentPath(), target: next.path, lowers: [lower] },
      join(dir, "xattrs.tmp"),
    );
    gens.commit(next.number);
    assert.equal(stats.files, 0);
    assertSameView(viewOfSave(), sessionView);
  });

  it("lists generations, reverts to one, and prunes old ones but never the one in use", () => {
    assert.deepEqual(
      gens.list().map((g) => [g.number, g.current]),
      [
        [1, false],
        [2, false],
        [3, true],
      ],
    );
    gens.revert(1);
    assert.equal(gens.currentNumber(), 1);
    assert.equal(readFileSync(join(gens.upper, "root/old.txt"), "utf8"), "old\n");
    gens.revert(3);
    const removed = gens.prune(0, [gens.list()[0]!.path]);
    assert.deepEqual(removed, [2]);
    assert.deepEqual(
      gens.list().map((g) => g.number),
      [1, 3],
    );
  });

  it("after a power cut mid-save the unfinished generation is dropped and the old one stays current", () => {
    const next = gens.begin();
    mkdirSync(next.path);
    writeFileSync(join(next.path, "half-written"), "x");
    const again = new SaveGenerations(gens.root);
    assert.match(again.recover().join(), /dropped the unfinished generation/);
    assert.equal(again.currentNumber(), 3);
    assert.equal(spawnSync("test", ["-e", next.path]).status, 1);
  });

  it("shows its progress off a terminal: a line at each tenth of the RAM layer's entries, none with --json", () => {
    const ram2 = join(dir, "ram-progress");
    const save2 = join(dir, "save-progress");
    mkdirSync(ram2);
    mkdirSync(save2);
    const [engine, ...args] = shippedRamstack();
    const fill = `mount -t tmpfs tmpfs ${ram2}; mkdir ${ram2}/root; for i in $(seq 1 450); do echo $i > ${ram2}/root/f$i; done`;
    for (const ramstack of [`${process.execPath} ${cli}`, `${engine} ${args.join(" ")}`]) {
      const out = inNamespace(`${fill}
        ${ramstack} save --save-dir ${save2} --ram ${ram2} 2>&1 >/dev/null
        echo json; ${ramstack} save --save-dir ${save2} --ram ${ram2} --json 2>&1 >/dev/null; rm -rf ${save2}/* ${save2}/.gen`);
      // 452 entries in the tmpfs (its root, root/, 450 files): the merge sees 451 and shows itself every 200 entries, before writing the one it is at.
      assert.deepEqual(out.trim().split("\n"), [
        "save: 40% 198 files, 0.0 MiB",
        "save: 80% 398 files, 0.0 MiB",
        "save: done, 450 files, 0.0 MiB written",
        "json",
      ]);
    }
  });

  it("a save that does not fit says so before writing anything", () => {
    const small = join(dir, "small");
    mkdirSync(small);
    const bigRam = makeTree(join(dir, "bigram"), { "root/big": "z".repeat(3 << 20) });
    const out = inNamespace(`
      mount -t tmpfs -o size=2m tmpfs ${small}
      ${process.execPath} ${cli} save --save-dir ${small} --ram ${bigRam} --json 2>&1 || echo "exit=$?"
      echo "entries: $(ls -A ${small} | wc -l)"
      ${process.execPath} ${cli} save --save-dir ${small} --list --json`);
    assert.match(out, /exit=1/);
    // Not even the new generation's directory was made.
    assert.match(out, /^entries: 0$/m);
    assert.match(
      out,
      /the save would not fit: this session's changes need about 3\.0 MiB and the save has 2\.0 MiB free; nothing was written/,
    );
    const list = JSON.parse(out.slice(out.indexOf("{"), out.lastIndexOf("}") + 1)) as { generations: unknown[] };
    assert.deepEqual(list.generations, []);
    assert.doesNotMatch(out, /partial/);
  });
});
