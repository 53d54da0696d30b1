// VM tier: the real kernel and initrd in QEMU, checked from inside the guest.
// A first boot with no save: PUPMODE 5, the stack in Puppy's order, and the
// handover the running system relies on.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Vm } from "../../src/vm/qemu.js";
import { withVm } from "../../src/vm/qemu.js";
import { INITRD_END, writeInitrd } from "../../src/build/cpio.js";
import { initrdCat } from "../../src/build/shipped.js";
import { run } from "../../src/sys/exec.js";
import { boot, bootDisk, guestMounts, guestVars, kernelVm, lowerDirs, scratch, testBuild } from "../helpers/system.js";

describe("first boot (PUPMODE 5) from a virtio disk", { timeout: 600000 }, () => {
  let vm: Vm;
  before(async () => {
    const build = testBuild();
    const disk = bootDisk({ build, dir: scratch("first-boot") });
    // A module parameter on the command line, for a module the init loads itself (virtio's bus appears once
    // the PCI drivers are in): modprobe's job, not the kernel's.
    const b = await boot(build, [{ file: disk, bus: "virtio" }], "virtio_blk.queue_depth=77");
    vm = b.vm;
    assert.equal(b.reached, "system", vm.tail());
  });
  // Unset when before() failed.
  after(async () => (vm as Vm | undefined)?.kill());

  it("stacks tmpfs > puppy > zdrv with overlay at /", async () => {
    const mounts = await guestMounts(vm);
    const root = mounts.get("/");
    assert.equal(root?.fstype, "overlay");
    assert.deepEqual(lowerDirs(root.options), ["/pup_ro2", "/pup_z"]);
    assert.match(root.options, /upperdir=\/mnt\/tmpfs\/pup_rw/);
    assert.equal(mounts.get("/initrd/pup_ro2")?.fstype, "squashfs");
    assert.equal(mounts.get("/initrd/pup_z")?.fstype, "squashfs");
    assert.equal(mounts.get("/initrd/mnt/tmpfs")?.fstype, "tmpfs");
  });

  it("loads modules with finit_module, with their parameters from the kernel command line", async () => {
    assert.equal(await vm.check("cat /sys/module/virtio_blk/parameters/queue_depth"), "77");
    assert.match(await vm.check("cat /initrd/tmp/bootinit.log"), /# modprobe -a -q virtio:d00000002v00001AF4$/m);
  });

  it("writes PUPSTATE with PUPMODE 5 and the partition it booted from", async () => {
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "5");
    assert.equal(s.PDEV1, "vda1");
    assert.equal(s.PUPSFS, "vda1,ext4,/puppy_tiny_0.1.0.sfs");
    assert.equal(s.ZDRV, "vda1,ext4,/zdrv_tiny_0.1.0.sfs");
    assert.equal(s.PUNIONFS, "overlay");
  });

  it("leaves the log, the plan with its reasons and DISTRO_SPECS under /initrd", async () => {
    const log = await vm.check("cat /initrd/tmp/bootinit.log");
    assert.match(log, /puppy: found \/puppy_tiny_0\.1\.0\.sfs on vda1/);
    // The init's own set-up comes first (one CPU: no head start beside it), and the boot timing line says
    // where the time before the init went.
    assert.match(log.split("\n")[0]!, /^\s*[\d.]+ head start: none on one CPU/);
    assert.match(log, /started at \d+\.\d+ s of uptime, \d+\.\d+ s after the runtime's exec; set up in \d+\.\d+ s/);
    // The disk controllers' drivers, the one with the fewest bytes first (virtio's), one at a time until the
    // boot's partitions are found: the PATA controller's (no disk behind it) and the other devices' are left
    // to a background job that goes on after the switch.
    assert.match(log, /# modprobe -a -q pci:v00001AF4d00001001\S*$/m);
    assert.doesNotMatch(log, /# modprobe -a -q .*pci:v00008086d00007010/m);
    assert.match(log, /start-stop-daemon -S .* -N 19 .* sh -c '\/bin\/busybox modprobe -a -q pci:v00008086d00007010/);
    // loop and squashfs are in already: the init mounted its driver image with them, before any modprobe.
    assert.doesNotMatch(log, /# modprobe -a -q (loop|squashfs|overlay)\b/m);
    // The job loads them, then lets the image go: no loop device reads it any more, and busybox is gone.
    await vm.check(
      "for i in $(seq 300); do grep -q ata_piix /proc/modules && ! grep -qs modules.sfs /sys/block/loop*/loop/backing_file && ! ls -l /proc/*/exe 2>/dev/null | grep -q deleted && break; sleep 0.2; done",
    );
    assert.match(await vm.check("cat /proc/modules"), /^ata_piix /m);
    assert.doesNotMatch(await vm.check("cat /sys/block/loop*/loop/backing_file"), /modules\.sfs/);
    // Nothing runs from the initramfs's deleted files any more (the job's busybox).
    assert.doesNotMatch(await vm.check("ls -l /proc/*/exe 2>/dev/null || true"), /\(deleted\)/);
    const plan = JSON.parse(await vm.check("cat /initrd/tmp/bootinit.json")) as {
      plan: { pupmode: number; decisions: { topic: string }[] };
      outcome: { steps: { name: string; result: string }[] };
    };
    assert.equal(plan.plan.pupmode, 5);
    assert.ok(plan.plan.decisions.some((d) => d.topic === "puppy"));
    // Beside the plan, what was done: every step, in order.
    assert.deepEqual(
      plan.outcome.steps.map((x) => `${x.name}: ${x.result}`),
      [
        "the RAM layer: done",
        "puppy puppy_tiny_0.1.0.sfs: done",
        "zdrv zdrv_tiny_0.1.0.sfs: done",
        "the union: done",
        "the hand-over: done",
      ],
    );
    assert.match(await vm.check("cat /initrd/DISTRO_SPECS"), /DISTRO_FILE_PREFIX='tiny'/);
  });

  it("keeps the RAM layer and /tmp out of any save: /initrd/pup_rw and /tmp point into the tmpfs", async () => {
    assert.equal(await vm.check("readlink /initrd/pup_rw"), "/initrd/mnt/tmpfs/pup_rw");
    assert.equal(await vm.check("readlink /tmp"), "/initrd/mnt/tmpfs/tmp");
    // Anyone may write there (a service running as its own user, e.g. PHP's lock files).
    assert.equal(await vm.check("stat -L -c %a /tmp"), "1777");
    await vm.check("echo hello > /root/new-file");
    assert.equal(await vm.check("cat /initrd/mnt/tmpfs/pup_rw/root/new-file"), "hello");
  });

  it("runs the ramstack command on the main SFS's QuickJS runtime; nothing of the initramfs stays; no Node.js anywhere", async () => {
    assert.match(await vm.check("ramstack --version", 60000), /^\d+\.\d+\.\d+$/m);
    assert.equal(
      await vm.check("cat /usr/bin/ramstack"),
      '#!/bin/sh\nexec /usr/lib/ramstack/runtime/bin/ramstack-js /usr/lib/ramstack/ramstack.qbc "$@"',
    );
    assert.deepEqual((await vm.check("ls /usr/lib/ramstack/runtime/bin")).split(/\s+/), [
      "cryptsetup",
      "ramstack-js",
      "tar",
    ]);
    // The tools run through their own C library's loader, as the port starts them.
    assert.match(
      await vm.check(
        "cd /usr/lib/ramstack/runtime && lib/ld-linux-x86-64.so.2 --library-path lib bin/cryptsetup --version",
      ),
      /^cryptsetup 2\./,
    );
    assert.equal(await vm.check("command -v node || echo none"), "none");
    // switch_root's clean-up: the initramfs's files are gone (its RAM is the system's), /tmp's log aside.
    assert.equal(await vm.check("grep -c ' /initrd/runtime ' /proc/mounts; true"), "0");
    const shmem = /Shmem:\s+(\d+) kB/.exec(await vm.check("cat /proc/meminfo"));
    assert.ok(shmem && Number(shmem[1]) < 4096, `Shmem ${shmem?.[1]} kB: the initramfs's files are still in RAM`);
  });
});

describe("a machine with too little RAM for the initrd", { timeout: 300000 }, () => {
  it("is told how much it has and how much is needed, and gets a shell", async () => {
    const build = testBuild();
    const dir = scratch("small-ram");
    const disk = bootDisk({ build, dir });
    // The real initrd fits in any machine the kernel boots on, so this one carries 160 MiB of ballast (zeros:
    // 0.6 MiB of lz4) sorted last before the end marker: a 200 MiB guest runs out of room while unpacking it.
    const tree = join(dir, "initrd");
    mkdirSync(tree);
    run("sh", ["-c", `${initrdCat(join(build, "initrd.gz"))} | (cd '${tree}' && cpio -id --quiet)`]);
    // writeInitrd adds the end marker and the console's device nodes itself.
    for (const f of [INITRD_END, "dev/console", "dev/null"]) rmSync(join(tree, f));
    run("truncate", ["-s", "160M", join(tree, "~ballast")]);
    const initrd = join(dir, "initrd-ballast.gz");
    writeInitrd(tree, initrd, 0, "lz4");
    // The kernel unpacks what fits and drops the rest without a word; /init notices the missing end.
    await withVm({ ...kernelVm(build, [{ file: disk, bus: "virtio" }], "", 200), initrd }, async (vm) => {
      const m = await vm.waitFor(
        /this machine has (\d+) MiB of RAM; unpacking the initrd needs about (\d+) MiB/,
        240000,
      );
      assert.ok(Number(m[1]) > 0 && Number(m[2]) > 0, m[0]);
      await vm.waitFor(/the initrd was not unpacked whole/, 1000).catch(() => assert.fail(vm.tail()));
      await vm.shellReady(30000);
      assert.equal(await vm.check("test -e /initrd.end || echo missing"), "missing");
    });
  });
});
