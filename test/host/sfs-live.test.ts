// Host tier: `ramstack sfs load/unload` on a real squashfs, loop-mounted in a
// private mount namespace, linked into a scratch root; BOOTCONFIG's
// EXTRASFSLIST kept; a save never takes a loaded SFS's links.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { NodePort } from "../../src/port/node.js";
import { archiveMembers } from "../../src/save/archive.js";
import { isLoadedSfsLink } from "../../src/save/excludes.js";
import { bootPlaces, bootSfsList, setBootSfs } from "../../src/sfs/boot.js";
import { LOADED_SFS_DIR } from "../../src/sfs/live.js";
import { run } from "../../src/sys/exec.js";

const LIVE = new URL("../../src/sfs/live.js", import.meta.url).href;
const PORT = new URL("../../src/port/node.js", import.meta.url).href;
const PROGRESS = new URL("../../src/lib/progress.js", import.meta.url).href;

describe("an SFS loaded while running", { timeout: 120000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ramstack-sfs-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("links its files into the root, leaves the root's own alone, and unloads to exactly what was there", () => {
    const tree = join(dir, "tree");
    mkdirSync(join(tree, "usr/bin"), { recursive: true });
    mkdirSync(join(tree, "usr/share/sfsdata/deep"), { recursive: true });
    mkdirSync(join(tree, "etc"), { recursive: true });
    writeFileSync(join(tree, "usr/bin/hello-sfs"), "#!/bin/sh\necho hello from the sfs\n", { mode: 0o755 });
    writeFileSync(join(tree, "usr/share/sfsdata/deep/x.txt"), "x\n");
    writeFileSync(join(tree, "etc/existing"), "the sfs's\n");
    const sfs = join(dir, "tools_1.0.sfs");
    run("mksquashfs", [tree, sfs, "-quiet", "-no-progress", "-all-root", "-comp", "gzip"]);
    writeFileSync(join(dir, "not-an.sfs"), "garbage");
    const root = join(dir, "root");
    mkdirSync(join(root, "usr/bin"), { recursive: true });
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc/existing"), "the system's\n");
    const state = join(root, "initrd/mnt/tmpfs/sfs");
    const script = `
      set -e
      mkdir -p ${root}/initrd
      mount -t tmpfs tmpfs ${root}/initrd
      node --input-type=module -e '
        const live = await import("${LIVE}");
        const port = new (await import("${PORT}")).NodePort();
        const o = { root: "${root}", dir: "${state}" };
        const l = live.loadSfs(port, "${sfs}", o);
        console.log("loaded", l.name, l.links.length, l.dirs.length, l.shadowed);
        try { live.loadSfs(port, "${sfs}", o); } catch (e) { console.log("again:", e.message); }
        try { live.loadSfs(port, "${dir}/not-an.sfs", o); } catch (e) { console.log("bad:", e.message.split(":")[0]); }
        console.log("list", live.listLoaded(port, o).map((x) => x.name).join(","));
      '
      echo "run: $(${root}/usr/bin/hello-sfs)"
      echo "existing: $(cat ${root}/etc/existing)"
      echo "mounted: $(grep -c ' ${state}/tools_1.0.sfs ' /proc/self/mounts)"
      node --input-type=module -e '
        const live = await import("${LIVE}");
        const port = new (await import("${PORT}")).NodePort();
        const o = { root: "${root}", dir: "${state}" };
        const u = live.unloadSfs(port, "tools_1.0.sfs", o);
        console.log("unloaded", u.links.length);
        try { live.unloadSfs(port, "tools_1.0.sfs", o); } catch (e) { console.log("twice:", e.message); }
      '
      echo "mounted after: $(grep -c ' ${state}/tools_1.0.sfs ' /proc/self/mounts || true)"
      (cd ${root} && find . -path ./initrd -prune -o -print | sort)
      ls -A ${state}
    `;
    const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c", script], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const lines = r.stdout.trim().split("\n");
    // Two files linked (the program, x.txt), three directories made (share, sfsdata, deep), etc/existing left as it was.
    assert.ok(lines.includes("loaded tools_1.0.sfs 2 3 1"), r.stdout);
    assert.ok(lines.includes("again: tools_1.0.sfs is loaded already (ramstack sfs unload tools_1.0.sfs)"), r.stdout);
    assert.ok(lines.includes(`bad: ${dir}/not-an.sfs does not mount as a squashfs`), r.stdout);
    assert.ok(lines.includes("list tools_1.0.sfs"), r.stdout);
    assert.ok(lines.includes("run: hello from the sfs"), r.stdout);
    assert.ok(lines.includes("existing: the system's"), r.stdout);
    assert.ok(lines.includes("mounted: 1"), r.stdout);
    assert.ok(lines.includes("unloaded 2"), r.stdout);
    assert.ok(lines.includes("twice: tools_1.0.sfs is not loaded (ramstack sfs list)"), r.stdout);
    assert.ok(lines.includes("mounted after: 0"), r.stdout);
    // The root is as it was: the program and the directories gone, nothing left of the bad file either.
    const after = lines.slice(lines.indexOf("mounted after: 0") + 1);
    assert.deepEqual(after, [".", "./etc", "./etc/existing", "./usr", "./usr/bin"]);
  });

  it("a save leaves a loaded SFS's links out, and keeps the user's own links", () => {
    const layer = join(dir, "layer");
    mkdirSync(join(layer, "usr/bin"), { recursive: true });
    symlinkSync(`${LOADED_SFS_DIR}/tools.sfs/usr/bin/hello-sfs`, join(layer, "usr/bin/hello-sfs"));
    symlinkSync("/usr/bin/busybox", join(layer, "usr/bin/mine"));
    assert.deepEqual(archiveMembers(layer, new NodePort()), ["usr", "usr/bin", "usr/bin/mine"]);
    assert.equal(isLoadedSfsLink(`${LOADED_SFS_DIR}/a.sfs/x`), true);
    assert.equal(isLoadedSfsLink(`${LOADED_SFS_DIR}x/a`), false);
    assert.equal(isLoadedSfsLink(null), false);
  });

  it("--boot keeps EXTRASFSLIST in BOOTCONFIG, the other settings as they were, where the init will look", () => {
    const root = join(dir, "boot-root");
    mkdirSync(join(root, "etc/rc.d"), { recursive: true });
    writeFileSync(join(root, "etc/rc.d/BOOTCONFIG"), "EXTRASFSLIST='a.sfs'\nPREVUNIONRECORD=''\n");
    const port = new NodePort();
    assert.equal(setBootSfs(port, "tools.sfs", true, root), true);
    assert.equal(setBootSfs(port, "tools.sfs", true, root), false);
    assert.deepEqual(bootSfsList(port, root), ["a.sfs", "tools.sfs"]);
    assert.equal(setBootSfs(port, "a.sfs", false, root), true);
    assert.equal(
      run("cat", [join(root, "etc/rc.d/BOOTCONFIG")]).stdout,
      "EXTRASFSLIST='tools.sfs'\nPREVUNIONRECORD=''\n",
    );
    // No save (PUPMODE 5): nowhere to keep it.
    writeFileSync(join(root, "etc/rc.d/PUPSTATE"), "PUPMODE='5'\nPUP_HOME=''\n");
    assert.equal(bootPlaces(port, "tools.sfs", root), null);
    writeFileSync(join(root, "etc/rc.d/PUPSTATE"), "PUPMODE='13'\nPUP_HOME='/mnt/dev_save'\nPSUBDIR='/puppy'\n");
    assert.deepEqual(bootPlaces(port, "tools.sfs", root), [
      join(root, "initrd/mnt/dev_save/puppy/tools.sfs"),
      join(root, "initrd/mnt/dev_save/tools.sfs"),
    ]);
  });

  it("shows how far a long load is, and how it ended", () => {
    const tree = join(dir, "many");
    mkdirSync(join(tree, "usr/share/many"), { recursive: true });
    for (let i = 0; i < 450; i++) writeFileSync(join(tree, `usr/share/many/f${i}`), `${i}\n`);
    const sfs = join(dir, "many.sfs");
    run("mksquashfs", [tree, sfs, "-quiet", "-no-progress", "-all-root", "-comp", "gzip"]);
    const root = join(dir, "many-root");
    mkdirSync(join(root, "initrd"), { recursive: true });
    const script = `
      set -e
      mount -t tmpfs tmpfs ${root}/initrd
      node --input-type=module -e '
        const live = await import("${LIVE}");
        const { progress } = await import("${PROGRESS}");
        const port = new (await import("${PORT}")).NodePort();
        const p = progress({ terminal: false, write: (t) => process.stdout.write(t) }, "sfs: many.sfs");
        live.loadSfs(port, "${sfs}", { root: "${root}", dir: "${root}/initrd/sfs", progress: p });
      '
    `;
    const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c", script], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    // 453 entries below the SFS's root (usr, share, many, 450 files), shown every 100 before linking the one at hand.
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "sfs: many.sfs: 20% 96 files linked",
      "sfs: many.sfs: 40% 196 files linked",
      "sfs: many.sfs: 60% 296 files linked",
      "sfs: many.sfs: 80% 396 files linked",
      "sfs: many.sfs: done, 450 files linked",
    ]);
  });
});
