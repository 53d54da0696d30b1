// VM tier, arm64: the tiny build for arm64 on QEMU's virt machine (a save
// made by the arm64 runtime, kept across a boot), and a Raspberry Pi 3 B SD
// card image (ramstack image --board rpi3) on QEMU's raspi3b: the card's
// save partition grows to fill it at the first boot, the first save goes to
// mmcblk0p2 through SAVEMARK and the next boot is PUPMODE 12 with it; with
// pmedia=ataflash the card is saved in flash mode (PUPMODE 13).

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { readImageManifest } from "../../src/build/image.js";
import { PI_SAVE_MIB } from "../../src/build/pi-image.js";
import { SYSTEM_RUNTIME } from "../../src/port/commands.js";
import type { Vm } from "../../src/vm/qemu.js";
import { have, run } from "../../src/sys/exec.js";
import { readManifest } from "../../src/build/build.js";
import { boot, bootDisk, bootPiCard, cli, guestMounts, guestVars, scratch, testBuild } from "../helpers/system.js";

const skip = have("qemu-system-aarch64") ? false : "qemu-system-aarch64 is not installed (Debian's qemu-system-arm)";

describe("arm64", { timeout: 1500000, skip }, () => {
  const vms: Vm[] = [];
  after(async () => Promise.all(vms.map((vm) => vm.kill())));
  const build = (): string => testBuild("tiny", "arm64");

  it("on virt: the arm64 system and runtime, and a save kept across a boot", async () => {
    const dir = scratch("arm64-virt");
    const disks = [{ file: bootDisk({ build: build(), dir }), bus: "virtio" as const }];
    let { vm } = await boot(build(), disks, "", { board: "virt" });
    vms.push(vm);
    assert.equal(await vm.check("uname -m"), "aarch64");
    assert.equal((await guestVars(vm, "/etc/DISTRO_SPECS")).DISTRO_TARGETARCH, "arm64");
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "5");
    // cryptsetup runs through arm64's loader from the main SFS's runtime.
    const runtime = SYSTEM_RUNTIME;
    assert.match(
      await vm.check(
        `${runtime}/lib/ld-linux-aarch64.so.1 --library-path ${runtime}/lib ${runtime}/bin/cryptsetup --version`,
      ),
      /^cryptsetup 2\./,
    );
    await vm.check("echo made-on-arm64 > /root/arm64.txt");
    assert.match(await vm.check("ramstack save --new folder 2>/dev/null"), /Saved the session in .*PUPMODE 12/);
    await vm.kill();

    ({ vm } = await boot(build(), disks, "", { board: "virt" }));
    vms.push(vm);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.deepEqual([s.PUPMODE, s.PUPSAVE], ["12", "vda1,ext4,/tinysave"]);
    assert.equal(await vm.check("cat /root/arm64.txt"), "made-on-arm64");
    await vm.kill();
  });

  it("on virt: the layered profile's layers are arm64's: adrv's nano runs on bdrv's C library", async () => {
    const layered = testBuild("layered", "arm64");
    const disks = [{ file: bootDisk({ build: layered, dir: scratch("arm64-layered") }), bus: "virtio" as const }];
    const { vm } = await boot(layered, disks, "", { board: "virt" });
    vms.push(vm);
    assert.match(
      (await guestMounts(vm)).get("/")!.options,
      /lowerdir=\/pup_a:\/pup_y:\/pup_b:\/pup_ro2:\/pup_f:\/pup_z/,
    );
    assert.match(await vm.check("nano --version | head -1"), /GNU nano, version \d/);
    // Run through bdrv's loader, not the main SFS's runtime: the layer's own arm64 C library.
    assert.equal(await vm.check("readlink -f /lib/ld-linux-aarch64.so.1 | grep -c aarch64"), "1");
    const m = readManifest(layered);
    assert.equal(m.arch, "arm64");
    assert.ok(
      m.layers?.bdrv?.packages.some((p) => p.startsWith("libc6=")),
      "bdrv lists libc6 as Debian names it",
    );
    await vm.kill();
  });

  describe("a Raspberry Pi 3 B's SD card (raspi3b)", () => {
    const card = (name: string, cmdline = ""): string => {
      const out = join(scratch(`pi-${name}`), "card.img");
      const args = ["image", build(), "--board", "rpi3", "--console", "serial", "--out", out];
      run(process.execPath, [cli, ...args, ...(cmdline ? ["--cmdline", cmdline] : [])]);
      return out;
    };

    it("grows its save partition at the first boot; the first save goes to mmcblk0p2 (SAVEMARK), the next boot uses it", async () => {
      const image = card("hd");
      const saveStart = readImageManifest(image)!.partitions[1]!.startMiB;
      // A 16 GiB card: past the 1024x growth an 8 MiB ext4's reserved descriptors allow (8 GiB), so the
      // kernel's online resize also turns the filesystem into meta_bg on the way, as on most real cards.
      let { vm } = await bootPiCard(image, {}, 16384);
      vms.push(vm);
      assert.match(vm.console, new RegExp(`Growing mmcblk0p2 to fill the card: ${PI_SAVE_MIB} MiB -> \\d+ MiB`));
      assert.match(vm.console, /mmcblk0p2 now fills the card/);
      // Four CPUs: the head start loads the card's filesystems (the build's list) beside the init.
      assert.match(
        await vm.check("cat /initrd/tmp/bootinit.log"),
        /head start: modprobe -a -q .*\bvfat\b.*\bext4\b.*\boverlay, in the background on 4 CPUs/,
      );
      let s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
      assert.deepEqual([s.PUPMODE, s.PDEV1, s.PSAVEPART, s.PSAVEDIR], ["5", "mmcblk0p1", "mmcblk0p2", "/"]);
      // The card is the image rounded up to a power of two; partition 2 now ends where it does.
      const p2 = Number(await vm.check("cat /sys/block/mmcblk0/mmcblk0p2/size"));
      assert.equal(p2 / 2048, statSync(image).size / 1048576 - saveStart);
      await vm.check("echo kept-on-the-card > /root/pi.txt");
      const said = await vm.check("ramstack save --new folder 2>/dev/null");
      assert.match(said, /Saved the session in \S*mmcblk0p2\S* .*PUPMODE 12/, said);
      await vm.kill();

      ({ vm } = await bootPiCard(image));
      vms.push(vm);
      s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
      assert.deepEqual([s.PUPMODE, s.PUPSAVE], ["12", "mmcblk0p2,ext4,/tinysave"]);
      assert.equal(await vm.check("cat /root/pi.txt"), "kept-on-the-card");
      assert.doesNotMatch(vm.console, /Growing mmcblk0p2/, "grown once, not at every boot");
      // The filesystem fills the grown partition (less ext4's own blocks).
      // Kernel messages kept off the console: ext4's on a fresh 16 GiB filesystem could land inside df's output.
      const df = await vm.check("dmesg -n 1; df -k /initrd/mnt/dev_save");
      const total = Number(/(\d+)\s+\d+\s+\d+\s+\d+%\s+\/initrd\/mnt\/dev_save\s*$/m.exec(df)?.[1]);
      assert.ok(total * 1024 > p2 * 512 * 0.9, `ext4 is ${total} KiB on a partition of ${p2 / 2} KiB; df said:\n${df}`);
      // 1024 times PI_SAVE_MIB MiB, in KiB.
      assert.ok(total > PI_SAVE_MIB * 1024 * 1024, `ext4 is ${total} KiB: not past 1024 times its first size`);
      await vm.kill();
    });

    it("with pmedia=ataflash: flash mode, the session kept in RAM and saved to the card (PUPMODE 13)", async () => {
      const image = card("flash", "pmedia=ataflash");
      let { vm } = await bootPiCard(image, {}, 256);
      vms.push(vm);
      assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "5");
      await vm.check("echo flash-session > /root/flash.txt");
      assert.match(await vm.check("ramstack save --new folder 2>/dev/null"), /PUPMODE 13/);
      await vm.kill();

      ({ vm } = await bootPiCard(image));
      vms.push(vm);
      const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
      assert.deepEqual([s.PUPMODE, s.PMEDIA], ["13", "ataflash"]);
      assert.equal(await vm.check("cat /root/flash.txt"), "flash-session");
      await vm.kill();
    });
  });
});
