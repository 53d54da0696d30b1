// VM tier: the debian profile. One system, built once, booted five times
// from one disk with user-mode networking and a local apt repository served
// from this machine: in RAM (PUPMODE 5), where the boot, the login, DHCP and
// the logs are checked, a full RAM layer stops an install with a message, a
// package is installed with apt, and poweroff offers the first save; then
// from that save (PUPMODE 12), where the package still works and a file of
// the session is written before a reboot; then from USB (PUPMODE 13), where
// a package installed and merged by \`ramstack save\` is there after a
// reboot; then in RAM again (pfix=ram), where the packages are gone and the
// save on the disk holds what the sessions wrote.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readManifest } from "../../src/build/build.js";
import type { Vm } from "../../src/vm/qemu.js";
import type { AptRepo } from "../helpers/apt-repo.js";
import { makeAptRepo, serveAptRepo } from "../helpers/apt-repo.js";
import {
  bootDisk,
  cli,
  guestMounts,
  guestVars,
  boot,
  DEBIAN_BOOT,
  lowerDirs,
  scratch,
  testBuild,
  waitExit,
} from "../helpers/system.js";

/** Boot the build from this disk with a network card; the console's shell is ready when this returns. */
async function start(build: string, disk: string, cmdline = "", bus: "virtio" | "usb" = "virtio"): Promise<Vm> {
  const { vm } = await boot(build, [{ file: disk, bus }], cmdline, { ...DEBIAN_BOOT, net: { forwards: [] } });
  try {
    // The card's driver and its DHCP lease come beside the boot: wait for the address.
    await vm.check(
      "i=0; until ip -4 -o addr show eth0 2>/dev/null | grep -q inet; do i=$((i+1)); [ $i -lt 120 ] || exit 1; sleep 0.5; done",
      90000,
    );
    return vm;
  } catch (e) {
    await vm.kill();
    throw e;
  }
}

const listing = (sfs: string): string => execFileSync("unsquashfs", ["-l", "-d", "", sfs], { encoding: "utf8" });

describe("the debian profile", { timeout: 1200000 }, () => {
  let build: string;
  let disk: string;
  let vm: Vm;
  let repo: AptRepo | undefined;
  before(async () => {
    build = testBuild("debian");
    const dir = scratch("debian");
    disk = bootDisk({ build, dir, spareMiB: 128 });
    makeAptRepo(["hello", "figlet"], join(dir, "repo"));
    repo = await serveAptRepo(join(dir, "repo"));
    vm = await start(build, disk);
  });
  after(async () => {
    // Unset when before() failed.
    await (vm as Vm | undefined)?.kill();
    await repo?.close();
  });

  it("puts Debian's base in bdrv, the ramstack system in the main SFS, modules in zdrv; a second build does nothing", () => {
    const m = readManifest(build);
    const bdrvPackages = (m.layers?.bdrv?.packages ?? []).map((p) => p.split("=")[0]!);
    for (const p of ["apt", "dpkg", "sysvinit-core", "ifupdown", "udhcpc", "busybox-syslogd", "libc6"])
      assert.ok(bdrvPackages.includes(p), `${p} is in bdrv`);
    const bdrv = listing(join(build, "bdrv_debian_0.1.0.sfs"));
    const main = listing(join(build, "puppy_debian_0.1.0.sfs"));
    const zdrv = listing(join(build, "zdrv_debian_0.1.0.sfs"));
    for (const p of ["/usr/bin/apt-get", "/usr/bin/dpkg", "/usr/sbin/init", "/var/lib/dpkg/status"])
      assert.match(bdrv, new RegExp(`^${p}$`, "m"), `${p} is in bdrv`);
    assert.doesNotMatch(bdrv, /^\/usr\/share\/(doc|man|locale)\/./m, "documentation and locales are left out");
    assert.doesNotMatch(bdrv, /^\/var\/lib\/apt\/lists\/.*_Packages/m, "apt's lists are left out");
    for (const p of [
      "/usr/bin/ramstack",
      "/etc/inittab",
      "/etc/rc.d/rc.sysinit",
      "/etc/init.d/ramstack",
      "/etc/eventmanager",
    ]) {
      assert.match(main, new RegExp(`^${p}$`, "m"), `${p} is in the main SFS`);
      assert.doesNotMatch(bdrv, new RegExp(`^${p}$`, "m"), `${p} is not in bdrv, which would hide it`);
    }
    assert.match(zdrv, /^\/usr\/lib\/modules\/[^/]+\/modules\.dep$/m, "modules where merged /usr looks");
    const again = JSON.parse(
      execFileSync(
        process.execPath,
        [cli, "build", "--fast", "--profile", "debian", "--task", "webdev,kodi,retro", "--out", build, "--json"],
        {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        },
      ),
    ) as { files: { name: string; rebuilt: boolean }[] };
    assert.deepEqual(
      again.files.filter((f) => f.rebuilt).map((f) => f.name),
      [],
    );
  });

  it("stacks bdrv over the main SFS, writes PUPSTATE and runs sysvinit as PID 1", async () => {
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "5");
    assert.equal(s.BDRV, "vda1,ext4,/bdrv_debian_0.1.0.sfs");
    assert.deepEqual(lowerDirs((await guestMounts(vm)).get("/")!.options), ["/pup_b", "/pup_ro2", "/pup_z"]);
    assert.equal(await vm.check("readlink /proc/1/exe"), "/usr/sbin/init");
    assert.match(await vm.check("dpkg-query -W -f '${Status}\\n' apt"), /install ok installed/);
  });

  it("logs root in on the console: a login shell on ttyS0, without login(1)", async () => {
    assert.equal(
      await vm.check("id -un; tty; echo $HOME; ps -o args= -p $$; shopt -q login_shell && echo login"),
      "root\n/dev/ttyS0\n/root\n/bin/bash -l\nlogin",
    );
  });

  it("configures the first Ethernet card by DHCP", async () => {
    assert.match(await vm.check("ip -o -4 addr show eth0"), /inet 10\.0\.2\.15\/24/);
    assert.match(await vm.check("ip route show default"), /default via 10\.0\.2\.2 dev eth0/);
    // udhcpc wrote it from the lease: QEMU's DNS.
    assert.match(await vm.check("cat /etc/resolv.conf"), /^nameserver 10\.0\.2\.3$/m);
  });

  it("keeps the logs in RAM", async () => {
    assert.match(await vm.check("ps -o args= -C syslogd"), /syslogd -C/);
    await vm.check("logger ramstack-log-check");
    assert.match(await vm.check("logread"), /ramstack-log-check/);
    assert.equal(await vm.check("ls /var/log/syslog /var/log/messages 2>/dev/null | wc -l"), "0");
  });

  it("installs a package from the local repository with apt, its lists in RAM of their own", async () => {
    // Only the local repository: the tests never reach an outside mirror.
    await vm.check(`echo '${repo!.source}' > /etc/apt/sources.list; apt-get update -q`, 120000);
    // A writable layer too full for the package: apt stops before dpkg unpacks anything, with ramstack's message.
    await vm.check(
      "free=$(df -Pk / | { read -r _; read -r _ _ _ a _; echo $a; }); fallocate -l $(((free - 256) * 1024)) /root/filler",
    );
    const full = await vm.check(
      'DEBIAN_FRONTEND=noninteractive apt-get install -y -q hello 2>&1; echo "exit $?"',
      120000,
    );
    assert.match(full, /ramstack: not enough room for these packages: they need about \d+ MiB, and \/ has 0 MiB free/);
    assert.match(full, /nothing was installed, and the save is untouched/);
    assert.match(full, /\nexit [1-9]\d*$/);
    assert.equal(await vm.check("command -v hello || echo none"), "none");
    assert.doesNotMatch(await vm.check("dpkg-query -W -f '${Status}' hello 2>&1; true"), /install ok installed/);
    await vm.check("rm /root/filler");
    await vm.check("DEBIAN_FRONTEND=noninteractive apt-get install -y -q hello", 120000);
    assert.equal(await vm.check("hello"), "Hello, world!");
    assert.match(await vm.check("ls -1 /var/lib/apt/lists"), /_Packages$/m);
    assert.match(await vm.check("grep ' /var/lib/apt/lists ' /proc/mounts"), /^tmpfs /);
  });

  it("poweroff offers the first save; the package and the files are kept (PUPMODE 12), and gone in RAM mode", async () => {
    await vm.check("echo first-session > /root/first.txt; sync");
    vm.send("poweroff\n");
    let from = vm.console.length;
    await vm.waitFor(/Save it in a \[f\]older/, 120000, from);
    vm.send("f\n");
    await vm.waitFor(/A name for the save/, 60000, from);
    vm.send("\n");
    await vm.waitFor(/Saved the session in .*debiansave; the next boot uses it \(PUPMODE 12\)/, 120000, from);
    await waitExit(vm, 120000);
    // The save ran before sendsigs killed what was left and umountfs unmounted.
    const shutdown = vm.console.slice(from);
    assert.ok(
      shutdown.indexOf("Saved the session") < shutdown.indexOf("Asking all remaining processes to terminate"),
      shutdown,
    );

    vm = await start(build, disk);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "12");
    assert.equal(s.PUPSAVE, "vda1,ext4,/debiansave");
    assert.equal(await vm.check("cat /root/first.txt"), "first-session");
    assert.equal(await vm.check("hello"), "Hello, world!", "the package installed before the first save works");
    assert.equal(
      await vm.check("ls -1 /var/lib/apt/lists | grep -c _Packages || true"),
      "0",
      "apt's lists were not saved",
    );
    await vm.check("echo second-session > /root/second.txt");
    from = vm.console.length;
    vm.send("reboot\n");
    await waitExit(vm, 120000);
    assert.doesNotMatch(vm.console.slice(from), /ramstack save: .*(error|failed)/i);

    // The same disk on USB: flash mode (PUPMODE 13), the session in RAM until a save merges it.
    vm = await start(build, disk, "", "usb");
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "13");
    assert.equal(await vm.check("hello"), "Hello, world!");
    await vm.check(`echo '${repo!.source}' > /etc/apt/sources.list; apt-get update -q`, 120000);
    await vm.check("DEBIAN_FRONTEND=noninteractive apt-get install -y -q figlet", 120000);
    assert.match(await vm.check("figlet -v"), /FIGlet Copyright/);
    assert.match(await vm.check("ramstack save", 180000), /^Saved generation \d+/m);
    await vm.check("sync");
    await vm.kill();
    vm = await start(build, disk, "", "usb");
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "13");
    assert.match(await vm.check("figlet -v"), /FIGlet Copyright/, "the package installed in PUPMODE 13 is saved");
    assert.equal(await vm.check("ls -1 /var/lib/apt/lists | grep -c _Packages || true"), "0");
    await vm.kill();

    vm = await start(build, disk, "pfix=ram");
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "5");
    assert.equal(await vm.check("command -v hello || echo gone"), "gone");
    assert.equal(await vm.check("command -v figlet || echo gone"), "gone");
    assert.equal(await vm.check("test -e /root/first.txt || echo gone"), "gone");
    // The save on the disk holds what the PUPMODE 12 session wrote before its reboot.
    await vm.check("mkdir -p /mnt/disk && mount -o ro /dev/vda1 /mnt/disk");
    const save = "/mnt/disk/debiansave/upper";
    assert.equal(await vm.check(`cat ${save}/root/first.txt ${save}/root/second.txt`), "first-session\nsecond-session");
    assert.equal(await vm.check(`test -x ${save}/usr/bin/hello && echo kept`), "kept");
    // figlet is an alternative: /usr/bin/figlet links through /etc/alternatives to figlet-figlet.
    assert.equal(await vm.check(`test -x ${save}/usr/bin/figlet-figlet && echo kept`), "kept");
  });
});
