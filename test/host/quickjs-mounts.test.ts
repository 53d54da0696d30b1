// Host tier: the QuickJS port's mounts (mount(2), loop devices and umount2
// from ramstack:sys, in place of busybox mount) on real tmpfs, squashfs and
// ext4 images, in a private mount namespace: options as flags and data, the
// loop device going with its mount or its failure, a write-protected image
// mounted read-only, bind, move, lazy umount and the failure format.

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

const ENGINE_SCRIPT = fileURLToPath(new URL("../engine/port-mounts.js", import.meta.url));

type Seen = Record<string, unknown> & { step: string };

describe("the QuickJS port's mounts", { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ramstack-qjs-mounts-"));
  const seen = new Map<string, Seen>();
  let loopsAfter = "";
  after(() => rmSync(dir, { recursive: true, force: true }));
  before(async () => {
    const qjs = buildQuickjs("x86_64");
    const harness = join(dir, "port-mounts.js");
    writeFileSync(harness, await bundleForEngine(ENGINE_SCRIPT));
    const d = join(dir, "work");
    const script = `
      set -e
      mkdir -p ${d} && mount -t tmpfs tmpfs ${d} && cd ${d}
      mkdir src ro rosrc && echo hi > src/hello
      mksquashfs src image.sfs -quiet -no-progress >/dev/null
      echo "not a squashfs" > not.sfs
      truncate -s 8M rosrc/save.ext4 && mkfs.ext4 -q -F rosrc/save.ext4
      mount --bind rosrc ro && mount -o remount,bind,ro ro
      ${qjs} ${harness} ${d}
      echo "LOOPS:$(losetup -a | grep -c ${d} || true)"
    `;
    const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c", script], { encoding: "utf8" });
    assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
    for (const line of r.stdout.trim().split("\n")) {
      if (line.startsWith("LOOPS:")) loopsAfter = line.slice(6);
      else {
        const o = JSON.parse(line) as Seen;
        seen.set(o.step, o);
      }
    }
  });
  const step = (name: string): Seen => {
    const s = seen.get(name);
    assert.ok(s, `step ${name} not reached: ${[...seen.keys()].join(", ")}`);
    return s;
  };
  const options = (s: Seen, key = "mount"): string[] =>
    ((s[key] as { options: string } | null)?.options ?? "").split(",");

  it("tmpfs: flags as flags, the rest as the filesystem's data", () => {
    const s = step("tmpfs");
    assert.equal((s.mount as { fstype: string }).fstype, "tmpfs");
    assert.ok(options(s).includes("noatime"), options(s).join());
    assert.ok(options(s).includes("size=1024k"), options(s).join());
    assert.equal(Number(s.mode) & 0o777, 0o700);
  });
  it("a squashfs through a loop device, read-only; the device goes with the umount", () => {
    const s = step("squashfs");
    assert.match((s.mount as { source: string }).source, /^\/dev\/loop\d+$/);
    assert.ok(options(s).includes("ro"));
    assert.equal(s.file, "hi\n");
    const u = step("umount squashfs");
    assert.equal(u.done, true);
    assert.equal(u.again, false, "a second umount finds nothing mounted");
    // No loop device is left bound to any of the test's files, failed mounts' included.
    assert.equal(loopsAfter, "0");
  });
  it("an image on a read-only filesystem is mounted read-only, as mount(8) does", () => {
    const s = step("write-protected");
    assert.equal((s.mount as { fstype: string }).fstype, "ext4");
    assert.ok(options(s).includes("ro"), options(s).join());
  });
  it("bind read-only, move, lazy umount", () => {
    assert.ok(options(step("bind ro")).includes("ro"));
    const m = step("move");
    assert.equal(m.from, null);
    assert.equal((m.to as { fstype: string }).fstype, "tmpfs");
    const l = step("lazy umount");
    assert.equal(l.done, true);
    assert.equal(l.left, null);
  });
  it("a failure names the command and the system call's error, and leaves nothing mounted", () => {
    const bad = step("not a squashfs");
    assert.match(
      String(bad.error),
      /^mount -t squashfs -o loop,ro DIR\/not\.sfs DIR\/x failed: mount\(\/dev\/loop\d+, DIR\/x, squashfs\): I\/O error$/,
    );
    assert.equal(bad.mounted, null);
    assert.match(
      String(step("missing file").error),
      /^mount -t squashfs -o loop,ro DIR\/missing\.sfs DIR\/x failed: loopAttach: open\(DIR\/missing\.sfs\): No such file or directory$/,
    );
    assert.match(
      String(step("bad move").error),
      /^mount -o move DIR\/x DIR\/m failed: mount\(DIR\/x, DIR\/m\): Invalid argument$/,
    );
  });
});
