// Host tier: the whole init (src/init/boot.ts) run against the recording
// fake of the port, as Alpine's mkinitfs tests run their init: a fake root
// with /proc, /sys and /dev (a real ext4 superblock for the partition), the
// partition's files shown when it is mounted, and every action recorded. A
// save that cannot be mounted: the attempt is unwound, and the boot is tried
// again in RAM, up to the switch into the new root.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { Init } from "../../src/init/boot.js";
import type { RecordingOptions } from "../../src/port/recording.js";
import { RecordingPort } from "../../src/port/recording.js";
import { run } from "../../src/sys/exec.js";

class Stop extends Error {}

const IDE = "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80";
const VIDEO = "pci:v00001234d00001111sv00001AF4sd00001100bc03sc00i00";
const VIRTIO = "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00";

const dir = mkdtempSync(join(tmpdir(), "ramstack-boot-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function files(root: string, map: Record<string, string>): string {
  for (const [path, text] of Object.entries(map)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** The expected lines appear in `calls` in this order (others may come between). */
function inOrder(calls: readonly string[], expected: readonly string[]): void {
  let at = 0;
  for (const e of expected) {
    const i = calls.indexOf(e, at);
    assert.ok(i >= 0, `'${e}' is not in the calls after line ${at}:\n${calls.slice(at).join("\n")}`);
    at = i + 1;
  }
}

/**
 * A PC's fake root: the kernel's files, DISTRO_SPECS, two PCI disk
 * controllers (PATA, and virtio with the disk) and whatever EXTRA adds, and
 * vda1 with a real ext4 superblock, labelled as the build's disks are.
 */
function pcRoot(root: string, extra: Record<string, string>): void {
  files(root, {
    "/proc/cmdline": "console=ttyS0\n",
    "/proc/meminfo": "MemTotal:        1048576 kB\nMemAvailable:     900000 kB\n",
    "/DISTRO_SPECS": "DISTRO_NAME='ramstack tiny'\nDISTRO_VERSION='0.1.0'\nDISTRO_FILE_PREFIX='tiny'\n",
    "/tmp/.keep": "",
    [`/sys/bus/pci/devices/0000:00:01.1/modalias`]: `${IDE}\n`,
    [`/sys/bus/pci/devices/0000:00:04.0/modalias`]: `${VIRTIO}\n`,
    "/lib/modules/6.1.0-test-amd64/modules.alias":
      "alias pci:v00008086d00007010sv*sd*bc*sc*i* ata_piix\nalias pci:v00001AF4d00001001sv*sd*bc*sc*i* virtio_pci\n",
    ...extra,
  });
  mkdirSync(join(root, "dev"), { recursive: true });
  run("mke2fs", ["-q", "-F", "-t", "ext4", "-L", "RAMSTACK", join(root, "dev/vda1"), "2M"]);
}

/** The virtio controller's drivers are the fewer bytes, loaded first; the disk vda appears once they are. */
function virtioDiskAppears(root: string): Pick<RecordingOptions, "moduleBytes" | "onModprobe"> {
  return {
    moduleBytes: { [IDE]: 750_000, [VIRTIO]: 130_000 },
    onModprobe: (names) => {
      if (names.includes(VIRTIO))
        files(root, {
          "/sys/block/vda/size": "204800\n",
          "/sys/block/vda/removable": "0\n",
          "/sys/block/vda/queue/rotational": "1\n",
          "/sys/block/vda/vda1/partition": "1\n",
          "/sys/block/vda/vda1/size": "200000\n",
        });
    },
  };
}

describe("the init on the recording fake", () => {
  it("a save that cannot be mounted: the attempt is unwound, the boot goes on in RAM, up to the switch", async () => {
    const root = join(dir, "root");
    pcRoot(root, {
      // The initrd's driver image, the two modules that mount it, and the head start's list.
      "/ramstack/modules.sfs": "image",
      "/ramstack/head-start": "crc32c_generic ext4 overlay\n",
      "/ramstack/modules/loop.ko": "",
      "/ramstack/modules/squashfs.ko": "",
      // Two CPUs: the head start's modprobe runs beside the init, still running (state S) at the switch,
      // which does not wait for it.
      "/sys/devices/system/cpu/online": "0-1\n",
      "/proc/4243/stat": "4243 (modprobe) S 1 1 1 0 -1 4194560\n",
      // The boot's kernel setting, set first, put back after the switch.
      "/proc/sys/vm/percpu_pagelist_high_fraction": "0",
      // A third PCI device, beside the two disk controllers: a video card.
      [`/sys/bus/pci/devices/0000:00:02.0/modalias`]: `${VIDEO}\n`,
    });
    const partition = files(join(dir, "vda1"), {
      "/puppy_tiny_0.1.0.sfs": "sfs",
      "/zdrv_tiny_0.1.0.sfs": "zdrv",
      "/tinysave.4fs": "not a filesystem",
    });
    const union = files(join(dir, "union"), { "/sbin/init": "", "/etc/motd": "" });
    const port = new RecordingPort({
      root,
      ...virtioDiskAppears(root),
      startedPid: 4243,
      contents: { "/dev/vda1": partition, unionfs: union },
      // The kernel mounts these without a module (Debian loads ext4 as one; the log would show its modprobe).
      filesystems: ["ext4", "squashfs", "overlay", "tmpfs"],
      fail: (c) =>
        c.startsWith("mount -t ext4 -o loop,rw,noatime /mnt/dev_save/tinysave.4fs")
          ? "wrong fs type, bad option, bad superblock on /dev/loop2"
          : null,
      onShell: () => {
        throw new Stop("the shell after the (fake) execve");
      },
    });
    const init = new Init(port, 1);
    await assert.rejects(init.boot(), Stop, port.said.join("\n"));
    inOrder(port.calls, [
      // The init's own set-up: the kernel's filesystems, the boot's setting, the driver image, the head start.
      "mount -t proc proc /proc",
      "mount -t sysfs sysfs /sys",
      "mount -t devtmpfs devtmpfs /dev",
      "write /proc/sys/vm/percpu_pagelist_high_fraction",
      "insmod /ramstack/modules/loop.ko",
      "insmod /ramstack/modules/squashfs.ko",
      "mount -t squashfs -o loop,ro /ramstack/modules.sfs /lib/modules",
      "/bin/busybox modprobe -a -q crc32c_generic ext4 overlay &",
      // The planner reads the partition: mounted on first look.
      "mount -t ext4 -o noatime /dev/vda1 /mnt/vda1",
      // The first attempt: PUPMODE 12 with the save file, which will not mount.
      "mount -t tmpfs -o size=50%,mode=755 tmpfs /mnt/tmpfs",
      "mount -o move /mnt/vda1 /mnt/dev_save",
      "mount -t ext4 -o loop,rw,noatime /mnt/dev_save/tinysave.4fs /pup_loop",
      // Unwound: the attempt's tmpfs goes, the partition gets its own name back.
      "umount /mnt/tmpfs",
      "mount -o move /mnt/dev_save /mnt/vda1",
      // The second attempt, as with pfix=ram: everything copied to RAM, the partition let go.
      "mount -t tmpfs -o size=50%,mode=755 tmpfs /mnt/tmpfs",
      "cp /mnt/vda1/puppy_tiny_0.1.0.sfs /mnt/tmpfs/puppy_tiny_0.1.0.sfs",
      "mount -t squashfs -o loop,ro,noatime /mnt/tmpfs/puppy_tiny_0.1.0.sfs /pup_ro2",
      "cp /mnt/vda1/zdrv_tiny_0.1.0.sfs /mnt/tmpfs/zdrv_tiny_0.1.0.sfs",
      "mount -t squashfs -o loop,ro,noatime /mnt/tmpfs/zdrv_tiny_0.1.0.sfs /pup_z",
      "mount -t overlay -o lowerdir=/pup_ro2:/pup_z,upperdir=/mnt/tmpfs/pup_rw,workdir=/mnt/tmpfs/pup_work,metacopy=off,xino=on unionfs /pup_new",
      "write /pup_new/etc/rc.d/PUPSTATE",
      "umount /mnt/vda1",
      "mount -o move /mnt/tmpfs /pup_new/initrd/mnt/tmpfs",
      "ln -s /initrd/mnt/tmpfs/pup_rw /pup_new/initrd/pup_rw",
      "write /pup_new/initrd/tmp/bootinit.json",
      // The controller with no disk and the video card: loaded in the background, from the switch on.
      `/bin/busybox start-stop-daemon -S -q -p /tmp/background-drivers.none -N 19 -x /bin/busybox -- sh -c /bin/busybox modprobe -a -q ${IDE} ${VIDEO}; /bin/busybox umount -l /lib/modules; /bin/busybox rm -f /bin/busybox &`,
      "mount -o move /dev /pup_new/dev",
      "mount -o move /proc /pup_new/proc",
      "mount -o move /sys /pup_new/sys",
      "cd /pup_new",
      "mount -o move . /",
      "chroot .",
      "cd /",
      "write /proc/sys/vm/percpu_pagelist_high_fraction",
      "exec /sbin/init /sbin/init",
    ]);
    assert.deepEqual(
      port.calls.filter((c) => c.startsWith("modprobe pci:")),
      [`modprobe ${VIRTIO}`],
      "the init itself loads only the driver of the controller with the disk",
    );
    assert.ok(
      !port.calls.some((c) => c.includes("tinysave.4fs") && /^(write|rm|mv|cp)/.test(c)),
      "nothing was written to the save",
    );
    assert.ok(
      port.said.includes("*** Booting with the session in RAM (as with pfix=ram); the save is not touched."),
      port.said.join("\n"),
    );
    assert.match(readFileSync(join(union, "etc/rc.d/PUPSTATE"), "utf8"), /^PUPMODE='5'$/m);
    const json = JSON.parse(readFileSync(join(union, "initrd/tmp/bootinit.json"), "utf8")) as {
      plan: { pupmode: number };
      outcome: { steps: { name: string; result: string }[] };
    };
    assert.equal(json.plan.pupmode, 5);
    assert.equal(json.outcome.steps.at(-1)?.name, "the hand-over");
    assert.equal(readFileSync(join(partition, "tinysave.4fs"), "utf8"), "not a filesystem");
    const log = readFileSync(join(root, "tmp/bootinit.log"), "utf8");
    assert.match(log, /the head start's modprobe still runs: it ends in the new system/);
    assert.equal(
      readFileSync(join(root, "tmp/boot-tunables"), "utf8"),
      "/proc/sys/vm/percpu_pagelist_high_fraction 0\n",
      "the setting's old value, read back at the switch",
    );
    assert.match(log, /\/lib\/modules is left to the background job that reads it/);
    assert.match(log, /# switch_root \/pup_new \/sbin\/init \(keeping \/tmp, \/lib\/modules, \/bin\/busybox\)/);
  });

  it("before the console asks anything, the controllers coldplug had not got to are loaded (a USB keyboard)", async () => {
    const root = join(dir, "root-ask");
    // One CPU (no head start beside the init: nothing to overlap with).
    pcRoot(root, { "/ramstack/modules.sfs": "image", "/sys/devices/system/cpu/online": "0\n" });
    // Two save folders: the plan asks which one.
    const partition = files(join(dir, "vda1-ask"), {
      "/puppy_tiny_0.1.0.sfs": "sfs",
      "/zdrv_tiny_0.1.0.sfs": "zdrv",
      "/tinysave/.keep": "",
      "/tinysave-work/.keep": "",
    });
    const port = new RecordingPort({
      root,
      contents: { "/dev/vda1": partition },
      filesystems: ["ext4", "squashfs", "overlay", "tmpfs"],
      ...virtioDiskAppears(root),
      answers: [null],
      onShell: () => {
        throw new Stop("a shell");
      },
    });
    await assert.rejects(new Init(port, 1).boot(), Stop, port.said.join("\n"));
    inOrder(port.calls, [`modprobe ${VIRTIO}`, `modprobe ${IDE}`, "ask"]);
    assert.ok(!port.calls.some((c) => c.endsWith("&")), port.calls.join("\n"));
    assert.match(readFileSync(join(root, "tmp/bootinit.log"), "utf8"), /head start: none on one CPU/);
  });
});
