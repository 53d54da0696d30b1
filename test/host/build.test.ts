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

  it("puts the runtime as /init, the bundled init, the disk modules and /dev/console in the initrd", () => {
    const initrd = join(build, "initrd.gz");
    // lz4 in the legacy framing, the one the kernel reads.
    assert.equal(readFileSync(initrd).subarray(0, 4).toString("hex"), "02214c18");
    const list = run("sh", ["-c", `lz4 -dc '${initrd}' | cpio -t --quiet`]).stdout.split("\n");
    for (const f of ["init", "ramstack/init.qbc", "ramstack/head-start", "DISTRO_SPECS", "bin/busybox", "dev/console"])
      assert.ok(list.includes(f), `${f} is missing`);
    // cryptsetup, tar and their C library are the main SFS's: none of it costs the initrd. e2fsck is
    // read from the driver image on the boots that check a disk, not unpacked on every boot.
    for (const f of ["runtime", "runtime/lib", "runtime/bin/cryptsetup", "runtime/bin/e2fsck", "lib64"])
      assert.ok(!list.includes(f), `${f} is in the initrd`);
    // /init first, so that a kernel short of RAM has it whole; the end marker last, so that it knows.
    assert.equal(list.filter(Boolean)[0], "init");
    assert.equal(list.filter(Boolean).at(-1), "initrd.end");
    // The drivers are a squashfs image; only the two that mount it are plain files.
    assert.deepEqual(
      list.filter((f) => f.endsWith(".ko")),
      ["ramstack/modules/loop.ko", "ramstack/modules/squashfs.ko"],
    );
    const dir = scratch("initrd-modules");
    run("sh", ["-c", `lz4 -dc '${initrd}' | (cd '${dir}' && cpio -id --quiet ramstack/modules.sfs)`]);
    const image = run("unsquashfs", ["-l", "-d", "", join(dir, "ramstack/modules.sfs")]).stdout.split("\n");
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
        image.some((f) => f.endsWith(`/${mod}`)),
        `${mod} is missing`,
      );
    assert.ok(image.includes(`/${m.kernelRelease}/modules.dep`));
    // Only the disk modules: the rest are in zdrv.
    assert.ok(image.filter((f) => f.endsWith(".ko")).length < 120);
  });

  it("carries a static JavaScript engine that runs the init's bytecode, and a static e2fsck", () => {
    const dir = scratch("runtime");
    run("sh", ["-c", `lz4 -dc '${join(build, "initrd.gz")}' | (cd '${dir}' && cpio -id --quiet)`]);
    const js = join(dir, "init");
    assert.equal(readElf(js).interpreter, false, "the engine is static");
    // The bytecode loads (a module that only defines things would print nothing): its syntax and version are the engine's.
    const probe = join(dir, "probe.qbc");
    writeFileSync(join(dir, "probe.js"), 'import * as std from "std"; std.out.puts(String(6 * 7));');
    run(js, ["-c", join(dir, "probe.js"), probe]);
    assert.equal(run(js, [probe]).stdout, "42");
    assert.ok(statSync(join(dir, "ramstack/init.qbc")).size > 50_000, "the init is bytecode in the initrd");
    run("unsquashfs", ["-q", "-d", join(dir, "image"), join(dir, "ramstack/modules.sfs"), "ramstack-runtime"]);
    const e2fsck = join(dir, "image/ramstack-runtime/bin/e2fsck");
    assert.equal(readElf(e2fsck).interpreter, false, "e2fsck is static");
    assert.match(run(e2fsck, ["-V"], { allowFail: true }).stderr, /^e2fsck 1\.\d+/);
    assert.ok(!existsSync(join(dir, "runtime")), "no other runtime (nor Node.js) in the initrd");
  });

  it("carries the system's runtime in the main SFS: the engine, and cryptsetup and tar with every library they need", () => {
    const dir = scratch("system-runtime");
    run("unsquashfs", ["-q", "-d", dir, join(build, "puppy_tiny_0.1.0.sfs"), "usr/lib/ramstack/runtime"]);
    const rt = join(dir, "usr/lib/ramstack/runtime");
    assert.equal(readElf(join(rt, "bin/ramstack-js")).interpreter, false, "the engine is static");
    // Every shared library a tool asks for is in the runtime's lib/ (readelf: no tool is run on the host's libraries).
    const libs = new Set(readdirSync(join(rt, "lib")));
    for (const tool of ["cryptsetup", "tar"]) {
      const needed = [...run("readelf", ["-d", join(rt, "bin", tool)]).stdout.matchAll(/\(NEEDED\).*\[(.+)\]/g)];
      assert.ok(needed.length > 0, `${tool} has no NEEDED entries`);
      for (const [, lib] of needed) assert.ok(libs.has(lib!), `${tool} needs ${lib}, which the runtime lacks`);
      // Run as the port runs it: through the runtime's own loader, with its own libraries only.
      const r = run(join(rt, "lib/ld-linux-x86-64.so.2"), [
        "--library-path",
        join(rt, "lib"),
        join(rt, "bin", tool),
        "--version",
      ]);
      assert.match(r.stdout, tool === "tar" ? /^tar \(GNU tar\)/ : /^cryptsetup 2\./);
    }
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
