// VM tier: a profile that asks for every optional layer. The builder fills
// bdrv, fdrv, adrv and ydrv from Debian packages, firmware and files; the
// init finds them by DISTRO_SPECS and stacks them; programs from adrv run on
// bdrv's libraries.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readManifest } from "../../src/build/build.js";
import type { Vm } from "../../src/vm/qemu.js";
import { boot, bootDisk, guestMounts, guestVars, lowerDirs, scratch, testBuild } from "../helpers/system.js";

describe("the layered profile", { timeout: 900000 }, () => {
  let build: string;
  let vm: Vm;
  before(async () => {
    build = testBuild("layered");
    vm = (await boot(build, [{ file: bootDisk({ build, dir: scratch("layered") }), bus: "virtio" }])).vm;
  });
  // Unset when before() failed.
  after(async () => (vm as Vm | undefined)?.kill());

  it("builds each layer with Puppy's names and lists its packages once, in the lowest layer that needs them", () => {
    const m = readManifest(build);
    for (const k of ["puppy", "zdrv", "adrv", "ydrv", "fdrv", "bdrv"])
      assert.ok(m.files[`${k}_layered_0.1.0.sfs`], `${k} is missing`);
    const names = (k: "adrv" | "bdrv"): string[] => (m.layers?.[k]?.packages ?? []).map((p) => p.split("=")[0]!);
    assert.ok(names("bdrv").includes("libc6"));
    assert.ok(names("adrv").includes("nano") && names("adrv").includes("libcryptsetup12"));
    assert.ok(!names("adrv").includes("libc6"), "libc6 is in bdrv, not again in adrv");
    const adrv = execFileSync("unsquashfs", ["-l", "-d", "", join(build, "adrv_layered_0.1.0.sfs")], {
      encoding: "utf8",
    });
    assert.match(adrv, /^\/bin\/nano$/m);
    assert.doesNotMatch(adrv, /^\/usr\/share\/(doc|man)\//m, "documentation is left out");
  });

  it("stacks adrv, ydrv, bdrv over the main SFS and fdrv over zdrv, as PUPSTATE says", async () => {
    assert.deepEqual(lowerDirs((await guestMounts(vm)).get("/")!.options), [
      "/pup_a",
      "/pup_y",
      "/pup_b",
      "/pup_ro2",
      "/pup_f",
      "/pup_z",
    ]);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    for (const [k, v] of Object.entries({ ADRV: "adrv", YDRV: "ydrv", BDRV: "bdrv", FDRV: "fdrv" }))
      assert.equal(s[k], `vda1,ext4,/${v}_layered_0.1.0.sfs`);
  });

  it("runs Debian's programs from adrv on bdrv's C library", async () => {
    assert.match(await vm.check("nano --version"), /GNU nano, version \d/);
    assert.match(await vm.check("e2fsck -V 2>&1"), /^e2fsck 1\.\d+/m);
    assert.match(await vm.check("cryptsetup --version"), /^cryptsetup 2\./);
    assert.equal(
      await vm.check(
        "test -e /initrd/pup_a/bin/nano && test -e /initrd/pup_b/lib/x86_64-linux-gnu/libc.so.6 && echo yes",
      ),
      "yes",
    );
  });

  it("takes files from ydrv and firmware from fdrv", async () => {
    assert.match(await vm.check("cat /etc/motd"), /layered profile/);
    assert.equal(await vm.check("test -e /initrd/pup_y/etc/motd && echo yes"), "yes");
    const fw = await vm.check("ls /initrd/pup_f/lib/firmware | wc -l");
    assert.ok(Number(fw) > 0);
    assert.equal(await vm.check("ls /initrd/pup_z/lib/firmware 2>/dev/null | wc -l"), "0", "firmware is only in fdrv");
  });
});
