// VM tier: the retro task. The debian test build's retro layer, stacked
// with ptask=retro: its packages without the icon themes and their fonts;
// MAME lists its drivers; after a first save and a reboot the games folder
// is on the save's partition, where RetroArch runs a NES cartridge made on
// this machine for a fixed number of frames, headless, and saves a
// screenshot of it (kept as a test artifact), and DOSBox runs a DOS program
// made here that writes a file.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Vm } from "../../src/vm/qemu.js";
import { TASKS } from "../../src/tasks/table.js";
import { run } from "../../src/sys/exec.js";
import type { Picture } from "../helpers/picture.js";
import { colourCount, readPng, screenUntil, writePng } from "../helpers/picture.js";
import { buildDosProgram, buildNesRom, DOS_MESSAGE } from "../helpers/retro-programs.js";
import {
  boot,
  bootDisk,
  DEBIAN_BOOT,
  guestMounts,
  guestVars,
  lowerDirs,
  repoRoot,
  scratch,
  testBuild,
} from "../helpers/system.js";

const ARTIFACTS = join(repoRoot, "out/test-artifacts");
const CORES = "/usr/lib/x86_64-linux-gnu/libretro";

/** RetroArch with nothing to draw on or play through: what a test (or a script) runs. */
const HEADLESS_RETROARCH = `video_driver = "null"
audio_driver = "null"
input_driver = "null"
input_joypad_driver = "null"
video_gpu_screenshot = "false"
config_save_on_exit = "false"
`;

/** DOSBox with no sound devices (the test machine has none). */
const QUIET_DOSBOX = `[mixer]
nosound=true
[speaker]
pcspeaker=false
[midi]
mpu401=none
`;

/** The share of the picture's pixels with each colour, largest first. */
function colourShares(p: Picture): [string, number][] {
  const counts = new Map<string, number>();
  const n = p.width * p.height;
  for (let i = 0; i < p.rgb.length; i += 3) {
    const key = `${p.rgb[i]},${p.rgb[i + 1]},${p.rgb[i + 2]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, c]): [string, number] => [k, c / n]).sort((a, b) => b[1] - a[1]);
}

/**
 * RetroArch's rgui menu in its default theme: a 4:3 picture (black bars at
 * the sides of the 16:10 screen) on a dark grey checkered background, its
 * title, selected item and help in green. A console's text, a black screen
 * or RetroArch's other menus fail it.
 */
function looksLikeMenu(p: Picture): boolean {
  let green = 0;
  let grey = 0;
  for (let i = 0; i < p.rgb.length; i += 3) {
    const [r, g, b] = [p.rgb[i]!, p.rgb[i + 1]!, p.rgb[i + 2]!];
    if (g > r + 60 && g > b + 60) green++;
    if (Math.abs(r - g) < 8 && Math.abs(g - b) < 8 && r >= 30 && r <= 90) grey++;
  }
  const n = p.width * p.height;
  const black = (fx: number): boolean => {
    const i = (Math.floor(0.5 * p.height) * p.width + Math.floor(fx * p.width)) * 3;
    return p.rgb[i]! + p.rgb[i + 1]! + p.rgb[i + 2]! === 0;
  };
  return green / n > 0.003 && grey / n > 0.25 && black(0.02) && black(0.98);
}

describe("the retro task", { timeout: 1200000 }, () => {
  let build: string;
  let disk: string;
  let vm: Vm | undefined;
  let programs: string;
  /** The first boot; the second also has the programs' disk, a screen, and RetroArch started on it. */
  const bootRetro = async (appliance: boolean): Promise<Vm> => {
    const v = (
      await boot(
        build,
        [{ file: disk, bus: "virtio" }, ...(appliance ? [{ file: programs, bus: "virtio" as const }] : [])],
        appliance ? "ptask=retro pautostart=retro" : "ptask=retro",
        // RetroArch's menu is drawn by Mesa's llvmpipe, which crashes on QEMU's emulation of AVX2.
        { ...DEBIAN_BOOT, ...(appliance ? { display: true, cpu: "Nehalem" } : {}) },
      )
    ).vm;
    // The drivers the boot loads later (coldplug) may print on the console, amid a command's output.
    await v.check("dmesg -n 1");
    return v;
  };

  before(async () => {
    build = testBuild("debian");
    const dir = scratch("retro");
    disk = bootDisk({ build, dir, spareMiB: 128 });
    // The programs, on a disk of their own (the boot's network comes up late while RetroArch draws its menu).
    const files = join(dir, "programs");
    mkdirSync(join(files, "dos"), { recursive: true });
    copyFileSync(buildNesRom(join(dir, "nes")), join(files, "ramstack.nes"));
    copyFileSync(buildDosProgram(join(dir, "dos")), join(files, "dos/WRITE.COM"));
    writeFileSync(join(files, "headless.cfg"), HEADLESS_RETROARCH);
    writeFileSync(join(files, "dosbox.conf"), QUIET_DOSBOX);
    programs = join(dir, "programs.img");
    run("mke2fs", ["-q", "-t", "ext2", "-L", "programs", "-d", files, programs, "4M"]);
    vm = await bootRetro(false);
  });
  after(async () => vm?.kill());

  it("stacks the task's layer above bdrv, without RetroArch's icon themes and their 326 MiB of fonts", async () => {
    const lowers = lowerDirs((await guestMounts(vm!)).get("/")!.options);
    assert.deepEqual(lowers, ["/pup_ro3", "/pup_b", "/pup_ro2", "/pup_z"]);
    assert.match(
      await vm!.check("dpkg-query -W -f '${Status}\\n' retroarch libretro-nestopia libretro-snes9x dosbox mame"),
      /^(install ok installed\n?){5}$/,
    );
    assert.match(
      await vm!.check("dpkg-query -W -f '${Package} ${Status}\\n' ramstack-without-retroarch-assets"),
      /^ramstack-without-retroarch-assets install ok installed$/,
    );
    assert.equal(
      await vm!.check(
        "for p in retroarch-assets fonts-noto-extra; do dpkg -s $p >/dev/null 2>&1 && echo $p; done; " +
          "ls -d /usr/share/libretro/assets /usr/share/fonts/truetype/noto 2>/dev/null; echo checked",
      ),
      "checked",
    );
    await vm!.check(TASKS.retro!.health, 60000);
  });

  it("MAME starts and lists its drivers, Captain Commando among them", async () => {
    assert.match(await vm!.check("mame -listfull captcomm", 120000), /^captcomm\s+"Captain Commando \(World/m);
    const drivers = await vm!.check("mame -listfull | wc -l", 120000);
    assert.ok(Number(drivers.split("\n").pop()) > 10000, drivers);
  });

  it("has no games folder before a save chooses the partition", async () => {
    assert.equal((await guestVars(vm!, "/etc/rc.d/PUPSTATE")).PUPMODE, "5");
    assert.equal(
      await vm!.check("readlink /root/games; test -e /root/games/ || echo nowhere"),
      "/mnt/home/games\nnowhere",
    );
    assert.match(await vm!.check("ramstack save new folder 2>&1", 600000), /Saved the session in .*debiansave/);
    await vm!.check("sync");
    await vm!.kill();
    vm = await bootRetro(true);
  });

  it("after the save, keeps the games folder on the save's partition, not in RAM", async () => {
    assert.equal((await guestVars(vm!, "/etc/rc.d/PUPSTATE")).PUPMODE, "12");
    assert.equal(await vm!.check("readlink /mnt/home"), "/initrd/mnt/dev_save");
    assert.match(await vm!.check("df -P /root/games/ | tail -n 1"), /^\/dev\/vda1 .* \/initrd\/mnt\/dev_save$/);
    await vm!.check(
      "mkdir -p /tmp/programs && mount -o ro /dev/vdb /tmp/programs && cp -r /tmp/programs/dos /tmp/programs/*.* /root/games/",
    );
    assert.equal(await vm!.check("ls -1 /mnt/home/games"), "dos\ndosbox.conf\nheadless.cfg\nramstack.nes");
  });

  it("RetroArch runs the cartridge for 120 frames with no display, and its screenshot shows it (out/test-artifacts/retro-nes.png)", async () => {
    const shot = "/tmp/retro-nes.png";
    await vm!.check(
      `retroarch -c /root/games/headless.cfg -L ${CORES}/nestopia_libretro.so --max-frames=120 ` +
        `--max-frames-ss --max-frames-ss-path=${shot} /root/games/ramstack.nes >/tmp/retroarch.log 2>&1 ` +
        `|| { tail -20 /tmp/retroarch.log; exit 1; }`,
      180000,
    );
    const png = join(scratch("retro-shot"), "shot.png");
    writeFileSync(png, Buffer.from((await vm!.check(`base64 ${shot}`)).replace(/\s/g, ""), "base64"));
    const picture = readPng(png);
    mkdirSync(ARTIFACTS, { recursive: true });
    writePng(picture, join(ARTIFACTS, "retro-nes.png"));
    // The NES's picture: the light blue backdrop over most of it, the red band, the white word.
    const shares = colourShares(picture);
    assert.equal(colourCount(picture), 3, JSON.stringify(shares));
    const [backdrop, band, word] = shares.map(([k]) => k.split(",").map(Number));
    assert.ok(backdrop![2]! > backdrop![0]! + 100 && shares[0]![1] > 0.8, `backdrop ${shares[0]![0]}`);
    assert.ok(band![0]! > band![2]! + 100, `band ${shares[1]![0]}`);
    assert.deepEqual(word, [255, 255, 255]);
  });

  it("DOSBox runs a DOS program from the games folder, which writes a file", async () => {
    await vm!.check("rm -f /root/games/dos/RESULT.TXT");
    await vm!.check(
      "SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy timeout 120 dosbox -conf /root/games/dosbox.conf " +
        `-c "mount c /root/games/dos" -c "c:" -c "WRITE.COM" -c "exit" >/tmp/dosbox.log 2>&1 || { tail -20 /tmp/dosbox.log; exit 1; }`,
      180000,
    );
    assert.equal(await vm!.check("tr -d '\\r' < /root/games/dos/RESULT.TXT"), DOS_MESSAGE);
  });

  it("boots straight into RetroArch's menu on the screen with pautostart=retro (out/test-artifacts/retro-menu.png)", async () => {
    await vm!.check("[ -s /run/ramstack-retro.pid ] && kill -0 $(cat /run/ramstack-retro.pid)");
    const picture = await screenUntil(vm!, looksLikeMenu, 240000, join(ARTIFACTS, "retro-menu.png"));
    assert.ok(
      looksLikeMenu(picture),
      `the screen is not RetroArch's menu: see out/test-artifacts/retro-menu.png\n${await vm!.run("tail -20 /var/log/ramstack-retro.log")}`,
    );
  });
});
