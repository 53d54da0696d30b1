// Host tier: the build steps' keys. Each step is keyed on what it reads (the
// data tables, the options, the host tools' versions, its code), so a change
// to any of them rebuilds that step and no other; and a real build notices a
// tool's new version.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { BuildInputs } from "../../src/build/keys.js";
import {
  codeFiles,
  codeHash,
  EMPTY_KEYMAPS,
  initrdKey,
  layerKey,
  rootfsKey,
  STEP_CODE,
  toolVersion,
  vmlinuzKey,
  zdrvKey,
} from "../../src/build/keys.js";
import { INITRD_MODULES } from "../../src/build/modules.js";
import type { LayerRecipe } from "../../src/build/profiles.js";
import { DEB_EXCLUDES } from "../../src/build/profiles.js";
import { run } from "../../src/sys/exec.js";
import { cli, scratch, testBuild } from "../helpers/system.js";

const base = (): BuildInputs => ({
  arch: "amd64",
  kernel: "linux-image-6.1.0-57-amd64 6.1.192-3",
  busybox: "1:1.35.0-4",
  firmware: "20230210-5",
  modulesDep: "md",
  initBundle: "init",
  cliBundle: "cli",
  runtime: "runtime",
  jsEngine: "js",
  keymaps: "keymaps",
  specs: "DISTRO_NAME='ramstack tiny'\n",
  epoch: 1767225600,
  compression: { comp: "zstd", level: 3 },
  initrdCompression: "lz4",
  profile: "tiny",
  initrdModules: [...INITRD_MODULES],
  headStart: ["ext4", "overlay"],
  debExcludes: [...DEB_EXCLUDES],
  tools: {
    mksquashfs: "mksquashfs version 4.5.1 libzstd.so.1.5.4",
    zstd: "zstd v1.5.4",
    lz4: "lz4 v1.9.4",
    depmod: "kmod version 30",
    loadkeys: "loadkeys from kbd 2.5.1",
  },
  code: { vmlinuz: "c-v", rootfs: "c-r", zdrv: "c-z", layer: "c-l", initrd: "c-i" },
});
const adrv: LayerRecipe = { purpose: "applications", debs: ["nano"] };

/** Each step's key, as Steps.step hashes it. */
function keys(i: BuildInputs, recipe = adrv, humongous: string[] | null = null): Record<string, string> {
  return {
    vmlinuz: JSON.stringify(vmlinuzKey(i)),
    rootfs: JSON.stringify(rootfsKey(i)),
    zdrv: JSON.stringify(zdrvKey(i, true)),
    adrv: JSON.stringify(layerKey(i, "adrv", recipe, ["nano=7.2-1"])),
    initrd: JSON.stringify(initrdKey(i, humongous)),
  };
}

/** The steps whose keys differ between two sets of inputs. */
function changed(a: Record<string, string>, b: Record<string, string>): string[] {
  return Object.keys(a).filter((k) => a[k] !== b[k]);
}

const SFS = ["rootfs", "zdrv", "adrv"];
/** The initrd holds a squashfs image too (its drivers). */
const SQUASHFS = [...SFS, "initrd"];

describe("build step keys", () => {
  it("stay the same for the same inputs", () => {
    assert.deepEqual(changed(keys(base()), keys(base())), []);
  });

  const cases: [string, (i: BuildInputs) => void, string[]][] = [
    ["INITRD_MODULES", (i) => void (i.initrdModules = [...i.initrdModules, "btrfs"]), ["initrd"]],
    ["the head start's modules", (i) => void (i.headStart = ["ext4"]), ["initrd"]],
    [
      "mksquashfs or its compression libraries",
      (i) => void (i.tools.mksquashfs = "mksquashfs version 4.6.1 libzstd.so.1.5.5"),
      SQUASHFS,
    ],
    ["depmod", (i) => void (i.tools.depmod = "kmod version 31"), ["initrd"]],
    ["the initrd's compressor (lz4)", (i) => void (i.tools.lz4 = "lz4 v1.10.0"), ["initrd"]],
    ["a compressor the build does not use (zstd, for an lz4 initrd)", (i) => void (i.tools.zstd = "zstd v1.5.6"), []],
    ["loadkeys", (i) => void (i.tools.loadkeys = "loadkeys from kbd 2.6.4"), ["initrd"]],
    ["the SFS compression", (i) => void (i.compression = { comp: "xz" }), SQUASHFS],
    ["the zstd level", (i) => void (i.compression = { comp: "zstd", level: 19 }), SQUASHFS],
    ["the initrd compression", (i) => void (i.initrdCompression = "zstd"), ["initrd"]],
    ["the epoch", (i) => void (i.epoch += 1), [...SFS, "initrd"]],
    ["the kernel", (i) => void (i.kernel = "linux-image-6.1.0-58-amd64 6.1.200-1"), ["vmlinuz", "zdrv", "initrd"]],
    ["modules.dep", (i) => void (i.modulesDep = "md2"), ["zdrv"]],
    ["busybox", (i) => void (i.busybox = "1:1.36.1-1"), ["rootfs", "initrd"]],
    ["the firmware", (i) => void (i.firmware = "20240101-1"), ["zdrv"]],
    ["the init's bundle", (i) => void (i.initBundle = "init2"), ["initrd"]],
    ["the command's bundle", (i) => void (i.cliBundle = "cli2"), ["rootfs"]],
    // The initrd carries the engine and e2fsck; the main SFS the engine, cryptsetup and tar.
    ["the runtime's tools", (i) => void (i.runtime = "runtime2"), ["rootfs", "initrd"]],
    // It is part of the runtime, and compiles the command's bytecode in the main SFS.
    ["the JavaScript engine", (i) => void ((i.jsEngine = "js2"), (i.runtime = "runtime2")), ["rootfs", "initrd"]],
    // The engine that compiles the bytecode alone (a build for another arch): only the initrd's bytecode is its own.
    ["the bytecode compiler", (i) => void (i.jsEngine = "js-host"), ["rootfs", "initrd"]],
    ["the architecture", (i) => void (i.arch = "arm64"), ["vmlinuz", "rootfs", "zdrv", "adrv", "initrd"]],
    ["the keymaps", (i) => void (i.keymaps = "keymaps2"), ["initrd"]],
    ["DISTRO_SPECS", (i) => void (i.specs += "DISTRO_VERSION='2'\n"), ["rootfs", "initrd"]],
    ["DEB_EXCLUDES", (i) => void (i.debExcludes = [...i.debExcludes, "usr/share/info"]), ["adrv"]],
    ["the initrd's code", (i) => void (i.code.initrd = "c-i2"), ["initrd"]],
    ["the SFS trees' code", (i) => void (i.code.rootfs = i.code.zdrv = i.code.layer = "c-t2"), SFS],
  ];
  for (const [what, change, want] of cases) {
    it(`a change to ${what} rebuilds ${want.length ? want.join(", ") : "nothing"}`, () => {
      const i = base();
      change(i);
      assert.deepEqual(changed(keys(base()), keys(i)), want);
    });
  }

  it("a change to a layer's definition or the humongous SFS files rebuilds only what holds them", () => {
    assert.deepEqual(changed(keys(base()), keys(base(), { ...adrv, debs: ["nano", "less"] })), ["adrv"]);
    assert.deepEqual(changed(keys(base()), keys(base(), { ...adrv, files: { "etc/motd": "hi\n" } })), ["adrv"]);
    assert.deepEqual(changed(keys(base(), adrv, ["a"]), keys(base(), adrv, ["b"])), ["initrd"]);
  });

  it("leave loadkeys out when there are no keymaps to compile", () => {
    const i = base();
    i.keymaps = EMPTY_KEYMAPS;
    const j = base();
    j.keymaps = EMPTY_KEYMAPS;
    j.tools.loadkeys = "absent";
    assert.deepEqual(changed(keys(i), keys(j)), []);
  });
});

describe("what the keys are gathered from", () => {
  it("a step's code is its modules and everything they import, and build.js", () => {
    const initrd = [...codeFiles(STEP_CODE.initrd).keys()];
    for (const f of [
      "build/build.js",
      "build/trees.js",
      "build/modules.js",
      "build/cpio.js",
      "build/keymaps.js",
      "build/components.js",
      "sys/exec.js",
      "build/quickjs.js",
      // The initrd's drivers are a squashfs image.
      "build/squashfs.js",
    ])
      assert.ok(initrd.includes(f), `${f} is not in the initrd's code`);
    // Not called by the initrd's step, and build.js's own imports are not followed.
    for (const f of ["build/keys.js", "build/image.js", "build/disk.js"])
      assert.ok(!initrd.includes(f), `${f} is in the initrd's code`);
    const sfs = [...codeFiles(STEP_CODE.zdrv).keys()];
    assert.ok(sfs.includes("build/squashfs.js") && sfs.includes("build/trees.js"));
    assert.deepEqual([...codeFiles(STEP_CODE.vmlinuz).keys()], ["build/build.js"]);
    assert.equal(codeHash(STEP_CODE.initrd), codeHash([...STEP_CODE.initrd].reverse()));
    assert.notEqual(codeHash(STEP_CODE.initrd), codeHash(STEP_CODE.vmlinuz));
  });

  it("asks each host tool its version", () => {
    assert.match(toolVersion("mksquashfs"), /^mksquashfs version \d+\.\d+.* libzstd\.so\.\d/);
    assert.match(toolVersion("zstd"), /v\d+\.\d+\.\d+/);
    assert.match(toolVersion("lz4"), /v\d+\.\d+\.\d+/);
    assert.match(toolVersion("depmod"), /^kmod version \d+/);
    assert.equal(toolVersion("depmod"), toolVersion("depmod"));
  });
});

describe("a real build", { timeout: 900000 }, () => {
  const copies: string[] = [];
  after(() => {
    for (const d of copies) rmSync(d, { recursive: true, force: true });
  });

  it("rebuilds the initrd, and only it, when depmod's version changes", () => {
    const build = testBuild();
    // A copy beside the test build (hard links where possible: steps replace their outputs by renaming), with stamps of its own.
    const copy = `${build}-keys-${process.pid}`;
    copies.push(copy);
    if (run("cp", ["-al", build, copy], { allowFail: true }).status !== 0) cpSync(build, copy, { recursive: true });
    rmSync(join(copy, ".stamps"), { recursive: true, force: true });
    cpSync(join(build, ".stamps"), join(copy, ".stamps"), { recursive: true });
    // A depmod that says it is another version, and otherwise is the real one.
    const bin = scratch("fake-kmod");
    mkdirSync(bin, { recursive: true });
    const real = run("sh", ["-c", "command -v depmod"]).stdout.trim();
    writeFileSync(
      join(bin, "depmod"),
      `#!/bin/sh\n[ "$1" = --version ] && { echo "kmod version 999"; exit 0; }\nexec '${real}' "$@"\n`,
    );
    chmodSync(join(bin, "depmod"), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const rebuilt = (): string[] => {
      const r = spawnSync(process.execPath, [cli, "build", "--fast", "--out", copy, "--json"], {
        encoding: "utf8",
        env,
      });
      assert.equal(r.status, 0, r.stderr);
      return (JSON.parse(r.stdout) as { files: { name: string; rebuilt: boolean }[] }).files
        .filter((f) => f.rebuilt)
        .map((f) => f.name);
    };
    assert.deepEqual(rebuilt(), ["initrd.gz"]);
    assert.deepEqual(rebuilt(), [], "the same version again: nothing to do");
  });
});
