// Host tier: how the debian profile splits its tree, without mmdebstrap.
// ramstack's files from the tiny tree land in the main SFS under merged
// /usr, without the busybox userland; the paths the main SFS holds are left
// out of bdrv (which is stacked above it and would hide them); the shell
// scripts it writes parse.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { DEBIAN_CHANGED, DEBIAN_PATHS, debianFiles } from "../../src/build/debian-base.js";
import { copyRamstackFiles, debianBdrvTree, ownedPaths, usrMerged } from "../../src/build/debian.js";
import { run } from "../../src/sys/exec.js";
import { makeTree, scratch } from "../helpers/system.js";

function link(root: string, path: string, target: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  symlinkSync(target, join(root, path));
}

/** A tree with the ramstack init script's rc links and one of Debian's. */
function debianTree(dir: string): string {
  const files: Record<string, string> = { "usr/bin/apt-get": "apt", "etc/init.d/sendsigs": "", "etc/shadow-": "" };
  for (const p of [...DEBIAN_PATHS, ...DEBIAN_CHANGED]) files[p] = "ramstack's";
  makeTree(dir, files);
  link(dir, "etc/rc0.d/K01ramstack", "../init.d/ramstack");
  link(dir, "etc/rc2.d/S02ramstack", "../init.d/ramstack");
  link(dir, "etc/rc0.d/K03sendsigs", "../init.d/sendsigs");
  return dir;
}

describe("the debian profile's layers", () => {
  it("maps /bin, /sbin and /lib into /usr", () => {
    assert.equal(usrMerged("bin/sh"), "usr/bin/sh");
    assert.equal(usrMerged("sbin/init"), "usr/sbin/init");
    assert.equal(usrMerged("lib/modules"), "usr/lib/modules");
    assert.equal(usrMerged("lib"), "usr/lib");
    assert.equal(usrMerged("library/x"), "library/x");
    assert.equal(usrMerged("usr/bin/ramstack"), "usr/bin/ramstack");
  });

  it("takes ramstack's files from the tiny tree, not its busybox userland", () => {
    const dir = scratch("debian-main");
    const tiny = makeTree(join(dir, "tiny"), {
      "bin/busybox": "busybox",
      "usr/bin/ramstack": "#!/bin/sh\n",
      "usr/lib/ramstack/ramstack.qbc": "//",
      "etc/eventmanager": "ASKTOSAVE=true\n",
      "etc/DISTRO_SPECS": "DISTRO_FILE_PREFIX='debian'\n",
      "etc/inittab": "::sysinit:/etc/rc.d/rc.sysinit\n",
      "etc/rc.d/rc.sysinit": "#!/bin/sh\n",
      "etc/passwd": "root::0:0:root:/root:/bin/sh\n",
      "sbin/newtool": "a file a later version may add",
      "usr/lib/ramstack/runtime/bin/ramstack-js": "the engine",
      "usr/lib/ramstack/runtime/lib/libc.so.6": "the tools' C library",
    });
    run("chmod", ["755", join(tiny, "usr/bin/ramstack")]);
    link(tiny, "bin/sh", "busybox");
    link(tiny, "usr/bin/vi", "../../bin/busybox");
    const main = join(dir, "main");
    mkdirSync(main);
    copyRamstackFiles(tiny, main);
    for (const p of [
      "usr/bin/ramstack",
      "usr/lib/ramstack/ramstack.qbc",
      "usr/lib/ramstack/runtime/bin/ramstack-js",
      "usr/lib/ramstack/runtime/lib/libc.so.6",
      "etc/eventmanager",
      "etc/DISTRO_SPECS",
    ])
      assert.ok(existsSync(join(main, p)), `${p} is kept`);
    assert.equal(statSync(join(main, "usr/bin/ramstack")).mode & 0o777, 0o755);
    assert.ok(existsSync(join(main, "usr/sbin/newtool")), "sbin/ goes to usr/sbin/");
    for (const p of ["bin", "lib64", "usr/bin/vi", "etc/inittab", "etc/rc.d/rc.sysinit", "etc/passwd"])
      assert.ok(!existsSync(join(main, p)), `${p} is the busybox userland's`);
  });

  it("leaves ramstack's paths out of bdrv and keeps Debian's", () => {
    const dir = scratch("debian-bdrv");
    const tree = debianTree(join(dir, "tree"));
    const owned = ownedPaths(tree);
    assert.ok(owned.includes("etc/rc0.d/K01ramstack") && owned.includes("etc/rc2.d/S02ramstack"));
    assert.ok(owned.includes("etc/inittab") && owned.includes("etc/shadow"));
    assert.ok(!owned.includes("etc/rc0.d/K03sendsigs"), "Debian's own links stay in bdrv");
    const bdrv = join(dir, "bdrv");
    mkdirSync(bdrv);
    debianBdrvTree(bdrv, { dir: tree, key: "k", packages: [] });
    for (const p of owned) assert.ok(!existsSync(join(bdrv, p)), `${p} is not in bdrv`);
    assert.ok(existsSync(join(bdrv, "usr/bin/apt-get")));
    assert.equal(readlinkSync(join(bdrv, "etc/rc0.d/K03sendsigs")), "../init.d/sendsigs");
  });

  it("writes shell scripts that parse", () => {
    const dir = scratch("debian-scripts");
    for (const [path, f] of Object.entries(debianFiles("amd64"))) {
      if (!f.text.startsWith("#!/bin/sh")) continue;
      const file = join(dir, path.replace(/\//g, "_"));
      writeFileSync(file, f.text);
      assert.equal(run("sh", ["-n", file], { allowFail: true }).status, 0, `${path} parses`);
    }
  });
});
