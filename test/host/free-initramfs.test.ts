// Host tier: the hand-over's clean-up of the initramfs (what switch_root
// does, keeping only /tmp), on a real tmpfs with real mounts inside it, in
// a private mount namespace.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

const SYSTEM = new URL("../../src/init/system.js", import.meta.url).href;
const PORT = new URL("../../src/port/node.js", import.meta.url).href;

describe("freeing the initramfs before the switch", { timeout: 60000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ramstack-free-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("deletes the initramfs's files but /tmp, the runtime and busybox too, and nothing on a mounted filesystem", () => {
    const root = join(dir, "root");
    const script = `
      set -e
      mkdir -p ${root}
      mount -t tmpfs tmpfs ${root}
      cd ${root}
      mkdir -p bin runtime/bin runtime/lib lib/modules/k tmp pup_new mnt/data ramstack
      echo bb > bin/busybox; ln -s busybox bin/mount; echo js > runtime/bin/ramstack-js; echo c > runtime/lib/libc.so.6
      echo ko > lib/modules/k/ext4.ko; echo log > tmp/bootinit.log; echo init > init; echo js > ramstack/init.mjs
      mount -t tmpfs tmpfs pup_new; echo system > pup_new/system-file
      mount -t tmpfs tmpfs mnt/data; echo save > mnt/data/save-file
      node --input-type=module -e '
        const { freeInitramfs } = await import("${SYSTEM}");
        const port = new (await import("${PORT}")).NodePort();
        freeInitramfs(port, "${root}", "${root}/pup_new", ["${root}/tmp"]);
        try { freeInitramfs(port, "${root}", "${root}/tmp", []); } catch (e) { console.log("refused:", e.message.replace("${root}", "ROOT")); }
      '
      find . | sort
    `;
    const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c", script], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    const found = lines.filter((l) => l.startsWith("."));
    assert.deepEqual(found, [
      ".",
      "./mnt",
      "./mnt/data",
      "./mnt/data/save-file",
      "./pup_new",
      "./pup_new/system-file",
      "./tmp",
      "./tmp/bootinit.log",
    ]);
    // A new root that is not a mount of its own is refused before anything is deleted.
    assert.ok(lines.includes("refused: ROOT/tmp is not a mounted filesystem"), r.stdout);
  });
});
