// VM tier, arm64: the debian profile built for arm64 (mmdebstrap's install
// run through qemu-user) with the webdev task's layer, on QEMU's virt
// machine. It boots to root's login on the serial console (ttyAMA0), apt
// and dpkg are arm64's, the task's layer is stacked with ptask=webdev and
// serves PHP to this machine; a first save made on arm64 is there at the
// next boot (PUPMODE 12); the kodi and retro layers' programs run.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TASKS } from "../../src/tasks/table.js";
import { have } from "../../src/sys/exec.js";
import type { Vm } from "../../src/vm/qemu.js";
import { freePort, get } from "../helpers/net.js";
import {
  boot,
  bootDisk,
  DEBIAN_BOOT,
  guestMounts,
  guestVars,
  lowerDirs,
  scratch,
  testBuild,
} from "../helpers/system.js";

/**
 * Its build runs Debian's arm64 install under qemu-user: about 4 minutes for
 * the base, 7 for the webdev layer (PHP's and Node's maintainer scripts) and
 * more for kodi's and retro's, and the boots are TCG's arm64. Too long for npm test's 30 minutes on a fresh
 * machine, so this file runs when RAMSTACK_SLOW_TESTS=1.
 */
const skip = !have("qemu-system-aarch64")
  ? "qemu-system-aarch64 is not installed (Debian's qemu-system-arm)"
  : process.env.RAMSTACK_SLOW_TESTS === "1"
    ? false
    : "builds Debian for arm64 under qemu-user (about 20 minutes): RAMSTACK_SLOW_TESTS=1 runs it";

describe("arm64: the debian profile and its tasks on virt", { timeout: 7200000, skip }, () => {
  let build: string;
  let disk: string;
  let web: number;
  let vm: Vm | undefined;
  const start = async (cmdline: string): Promise<Vm> =>
    (
      await boot(build, [{ file: disk, bus: "virtio" }], cmdline, {
        ...DEBIAN_BOOT,
        board: "virt",
        net: { forwards: [{ host: web, guest: 80 }] },
      })
    ).vm;
  before(async () => {
    build = testBuild("debian", "arm64");
    disk = bootDisk({ build, dir: scratch("arm64-debian"), spareMiB: 128 });
    web = await freePort();
    vm = await start("ptask=webdev");
  });
  after(async () => vm?.kill());

  it("is Debian's arm64 system, logged in on the serial console, in RAM (PUPMODE 5)", async () => {
    assert.equal(await vm!.check("uname -m"), "aarch64");
    assert.equal(await vm!.check("dpkg --print-architecture"), "arm64");
    assert.equal(await vm!.check("tty"), "/dev/ttyAMA0");
    assert.equal((await guestVars(vm!, "/etc/rc.d/PUPSTATE")).PUPMODE, "5");
    assert.match(await vm!.check("dpkg-query -W -f '${Status}\\n' sysvinit-core"), /^install ok installed$/);
  });

  it("stacks the webdev layer above bdrv, and its health check passes", async () => {
    const lowers = lowerDirs((await guestMounts(vm!)).get("/")!.options);
    assert.deepEqual(lowers, ["/pup_ro3", "/pup_b", "/pup_ro2", "/pup_z"]);
    assert.equal(await vm!.check("dpkg-query -W -f '${Architecture}\\n' php8.2-cgi"), "arm64");
    await vm!.check(
      `i=0; until ${TASKS.webdev!.health}; do i=$((i+1)); [ $i -lt 90 ] || exit 1; sleep 1; done`,
      150000,
    );
  });

  it("serves PHP to this machine through a forwarded port", async () => {
    assert.match(await get(`http://127.0.0.1:${web}/info.php`), /^200 PHP 8\.2\./);
  });

  it("keeps a first save made on arm64: the next boot is PUPMODE 12 with it", async () => {
    await vm!.check("echo made-on-arm64 > /root/arm64.txt");
    assert.match(await vm!.check("ramstack save new folder 2>&1", 600000), /Saved the session in .*PUPMODE 12/);
    await vm!.check("sync");
    await vm!.kill();
    vm = await start("ptask=webdev");
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "12");
    assert.equal(await vm.check("cat /root/arm64.txt"), "made-on-arm64");
  });

  it("stacks the kodi and retro layers, arm64's: their programs have every library and start", async () => {
    await vm!.kill();
    vm = await start("ptask=kodi,retro");
    const lowers = lowerDirs((await guestMounts(vm)).get("/")!.options);
    assert.equal(lowers.length, 5, lowers.join(":"));
    for (const task of ["kodi", "retro"]) await vm.check(TASKS[task]!.health, 300000);
    assert.match(await vm.check("retroarch --version 2>&1 | head -3", 120000), /RetroArch/);
    assert.match(await vm.check("dosbox --version 2>&1 | head -3", 120000), /DOSBox version/);
    assert.match(await vm.check("mame -version 2>&1 | head -1; echo", 300000), /^0\.\d+/);
  });
});
