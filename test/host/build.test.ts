// Host tier: `ramstack build` with the real packages and tools. What goes in
// the initrd and the main SFS, and that building again gives the same bytes.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { readManifest } from "../../src/build/build.js";
import { readElf } from "../../src/build/quickjs.js";
import { run } from "../../src/sys/exec.js";
import { cli, scratch, testBuild } from "../helpers/system.js";

describe("ramstack build", { timeout: 900000 }, () => {
  let build: string;
  before(() => {
    build = testBuild();
  });

  it("writes the frugal files with Puppy's names and a manifest", () => {
    const m = readManifest(build);
    assert.deepEqual(Object.keys(m.files).sort(), [
      "initrd.gz",
      "puppy_tiny_0.1.0.sfs",
      "vmlinuz",
      "zdrv_tiny_0.1.0.sfs",
    ]);
    assert.match(m.kernelRelease, /^\d+\.\d+\.\d+-\d+-amd64$/);
  });

  it("puts the stub init, the bundled init, the runtime, the disk modules and /dev/console in the initrd", () => {
    const initrd = join(build, "initrd.gz");
    // A --fast build's initrd is lz4 in the legacy framing, the one the kernel reads.
    assert.equal(readFileSync(initrd).subarray(0, 4).toString("hex"), "02214c18");
    const list = run("sh", ["-c", `lz4 -dc '${initrd}' | cpio -t --quiet`]).stdout.split("\n");
    for (const f of [
      "init",
      "ramstack/init.qbc",
      "runtime/bin/ramstack-js",
      "runtime/lib/libc.so.6",
      "DISTRO_SPECS",
      "bin/busybox",
      "dev/console",
      "lib64",
    ])
      assert.ok(list.includes(f), `${f} is missing`);
    // Last, so that the stub init knows the kernel unpacked the whole archive.
    assert.equal(list.filter(Boolean).at(-1), "initrd.end");
    const m = readManifest(build);
    for (const mod of [
      "virtio_blk.ko",
      "ahci.ko",
      "usb-storage.ko",
      "nvme.ko",
      "mmc_block.ko",
      "squashfs.ko",
      "overlay.ko",
      "loop.ko",
      "dm-crypt.ko",
    ])
      assert.ok(
        list.some((f) => f.endsWith(`/${mod}`)),
        `${mod} is missing`,
      );
    assert.ok(list.includes(`lib/modules/${m.kernelRelease}/modules.dep`));
    // Only the disk modules: the rest are in zdrv.
    assert.ok(list.filter((f) => f.endsWith(".ko")).length < 120);
  });

  it("carries a static JavaScript engine that runs the init's bytecode, and every library its tools need", () => {
    const dir = scratch("runtime");
    run("sh", ["-c", `lz4 -dc '${join(build, "initrd.gz")}' | (cd '${dir}' && cpio -id --quiet)`]);
    const js = join(dir, "runtime/bin/ramstack-js");
    assert.equal(readElf(js).interpreter, false, "the engine is static");
    // The bytecode loads (a module that only defines things would print nothing): its syntax and version are the engine's.
    const probe = join(dir, "probe.qbc");
    writeFileSync(join(dir, "probe.js"), 'import * as std from "std"; std.out.puts(String(6 * 7));');
    run(js, ["-c", join(dir, "probe.js"), probe]);
    assert.equal(run(js, [probe]).stdout, "42");
    assert.ok(statSync(join(dir, "ramstack/init.qbc")).size > 50_000, "the init is bytecode in the initrd");
    // Every shared library a tool asks for is in the runtime's lib/ (readelf: no tool is run on the host's libraries).
    const libs = new Set(readdirSync(join(dir, "runtime/lib")));
    for (const tool of ["e2fsck", "cryptsetup", "tar"]) {
      const needed = [
        ...run("readelf", ["-d", join(dir, "runtime/bin", tool)]).stdout.matchAll(/\(NEEDED\).*\[(.+)\]/g),
      ];
      assert.ok(needed.length > 0, `${tool} has no NEEDED entries`);
      for (const [, lib] of needed) assert.ok(libs.has(lib!), `${tool} needs ${lib}, which the runtime lacks`);
    }
    assert.ok(!existsSync(join(dir, "runtime/bin/node")), "no Node.js in the initrd");
  });

  it("makes the main SFS a busybox userland whose applet links leave busybox whole", () => {
    const out = run("unsquashfs", ["-lls", "-d", "", join(build, "puppy_tiny_0.1.0.sfs")]).stdout;
    assert.match(out, /^-rwxr-xr-x root\/root +\d{6,} .* \/bin\/busybox$/m);
    assert.match(out, /^lrwxrwxrwx root\/root .* \/sbin\/init -> \.\.\/bin\/busybox$/m);
    assert.match(out, /^-rwxr-xr-x root\/root .* \/usr\/bin\/ramstack$/m);
    assert.match(out, /\/etc\/rc\.d\/rc\.sysinit$/m);
  });

  it("puts every kernel module and modules.dep in zdrv", () => {
    const out = run("unsquashfs", ["-l", "-d", "", join(build, "zdrv_tiny_0.1.0.sfs")]).stdout;
    const m = readManifest(build);
    assert.match(out, new RegExp(`^/lib/modules/${m.kernelRelease}/modules\\.dep$`, "m"));
    assert.ok(out.split("\n").filter((l) => l.endsWith(".ko")).length > 2000);
  });

  it("is reproducible: a second build elsewhere gives identical files", () => {
    const other = scratch("rebuild");
    const r = spawnSync(process.execPath, [cli, "build", "--fast", "--out", other, "--json"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const first = readManifest(build).files;
    const second = readManifest(other).files;
    for (const name of Object.keys(first)) assert.equal(second[name]?.sha256, first[name]!.sha256, `${name} differs`);
    const result = JSON.parse(r.stdout) as { files: { rebuilt: boolean }[] };
    assert.ok(
      result.files.every((f) => f.rebuilt),
      "the second build must really build, not copy",
    );
  });

  it("keeps what is up to date: a build in the same place rebuilds nothing", () => {
    const r = spawnSync(process.execPath, [cli, "build", "--fast", "--out", build, "--json"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { files: { name: string; rebuilt: boolean }[] };
    assert.deepEqual(
      result.files.filter((f) => f.rebuilt).map((f) => f.name),
      [],
    );
    assert.match(readFileSync(join(build, "build.json"), "utf8"), /"kernelRelease"/);
  });

  it("refuses a bad compression or profile with a clear message", () => {
    const r = spawnSync(process.execPath, [cli, "build", "--comp", "lz4"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /compression 'lz4' is not one of/);
    const p = spawnSync(process.execPath, [cli, "build", "--profile", "huge"], { encoding: "utf8" });
    assert.equal(p.status, 2);
    assert.match(p.stderr, /unknown profile 'huge'/);
  });
});
