// Host tier: the hand-over's clean-up of the initramfs (what switch_root
// does, keeping only /tmp), on a real tmpfs with real mounts inside it, in
// a private mount namespace: on Node.js (the port's walk) and on the
// QuickJS runtime the init ships with (ramstack:sys removeContents, in C).

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { bundleForEngine } from "../../src/build/bundle.js";
import { buildQuickjs } from "../../src/build/quickjs.js";

const SYSTEM = new URL("../../src/init/system.js", import.meta.url).href;
const PORT = new URL("../../src/port/node.js", import.meta.url).href;
const ENGINE_SCRIPT = fileURLToPath(new URL("../engine/free-initramfs.js", import.meta.url));

/** A tmpfs initramfs at ROOT with the runtime, busybox, modules, /tmp's log and two mounts; RUN frees it; then its tree. */
function scenario(root: string, run: string): string[] {
  const script = `
    set -e
    mkdir -p ${root}
    mount -t tmpfs tmpfs ${root}
    cd ${root}
    mkdir -p bin runtime/bin runtime/lib lib/modules/k/kernel/fs tmp pup_new mnt/data ramstack
    echo bb > bin/busybox; for a in mount umount sh ls cat; do ln -s busybox bin/$a; done
    echo js > runtime/bin/ramstack-js; echo c > runtime/lib/libc.so.6; mkfifo runtime/fifo
    echo ko > lib/modules/k/kernel/fs/ext4.ko; echo log > tmp/bootinit.log; echo init > init; echo js > ramstack/init.mjs
    mount -t tmpfs tmpfs pup_new; echo system > pup_new/system-file
    mount -t tmpfs tmpfs mnt/data; echo save > mnt/data/save-file
    ${run}
    find . | sort
  `;
  const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split("\n");
}

/** What is left, whichever engine: the mounts with their directories, and /tmp. */
const LEFT = [
  ".",
  "./mnt",
  "./mnt/data",
  "./mnt/data/save-file",
  "./pup_new",
  "./pup_new/system-file",
  "./tmp",
  "./tmp/bootinit.log",
];

describe("freeing the initramfs before the switch", { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ramstack-free-"));
  let qjs = "";
  let harness = "";
  before(async () => {
    qjs = buildQuickjs("x86_64");
    harness = join(dir, "free-initramfs.js");
    writeFileSync(harness, await bundleForEngine(ENGINE_SCRIPT));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const engine of ["Node.js", "QuickJS"] as const) {
    it(`on ${engine}: deletes the initramfs's files but /tmp, and nothing on a mounted filesystem`, () => {
      const root = join(dir, `root-${engine}`);
      const run =
        engine === "QuickJS"
          ? `${qjs} ${harness} ${root}`
          : `node --input-type=module -e '
              const { freeInitramfs } = await import("${SYSTEM}");
              const port = new (await import("${PORT}")).NodePort();
              console.log("left:", freeInitramfs(port, "${root}", "${root}/pup_new", ["${root}/tmp"]));
              try { freeInitramfs(port, "${root}", "${root}/tmp", []); } catch (e) { console.log("refused:", e.message.replace("${root}", "ROOT")); }
            '`;
      const lines = scenario(root, run);
      assert.deepEqual(
        lines.filter((l) => l.startsWith(".")),
        LEFT,
      );
      // Three entries stay at the top: mnt (a mount inside), pup_new and tmp.
      assert.ok(lines.includes("left: 3"), lines.join("\n"));
      // A new root that is not a mount of its own is refused before anything is deleted.
      assert.ok(lines.includes("refused: ROOT/tmp is not a mounted filesystem"), lines.join("\n"));
    });
  }
});
