// VM tier: the kodi task. The debian test build's kodi layer, stacked with
// ptask=kodi and started at boot with pautostart=kodi (the appliance), on a
// virtio-vga display drawn by Mesa's llvmpipe: Kodi's JSON-RPC answers this
// machine through a forwarded port that its home window is shown, and the
// screen QEMU holds is Kodi's home screen, kept as a test artifact.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Vm } from "../../src/vm/qemu.js";
import { TASKS } from "../../src/tasks/table.js";
import { serveAptRepo } from "../helpers/apt-repo.js";
import { kodiRpc, kodiWindow } from "../helpers/kodi.js";
import { freePort } from "../helpers/net.js";
import type { Picture } from "../helpers/picture.js";
import { screenUntil } from "../helpers/picture.js";
import {
  boot,
  bootDisk,
  DEBIAN_BOOT,
  guestMounts,
  lowerDirs,
  repoRoot,
  scratch,
  testBuild,
} from "../helpers/system.js";

/** A WAV file of a sine tone: 16-bit mono, 44.1 kHz. */
function toneWav(hz: number, seconds: number): Buffer {
  const rate = 44100;
  const samples = Buffer.alloc(rate * seconds * 2);
  for (let i = 0; i < rate * seconds; i++)
    samples.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * hz * i) / rate)), i * 2);
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "latin1");
  h.writeUInt32LE(36 + samples.length, 4);
  h.write("WAVEfmt ", 8, "latin1");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36, "latin1");
  h.writeUInt32LE(samples.length, 40);
  return Buffer.concat([h, samples]);
}

/** Where the VM tests leave what a person may want to look at. */
const ARTIFACTS = join(repoRoot, "out/test-artifacts");

/**
 * Kodi 20's home window as its Estuary skin draws it: a dark grey menu on
 * the left whose first item (Movies) is lit in the skin's blue, beside a
 * dark teal backdrop. Kodi's splash (black, its logo in the middle), a
 * console's text and the dimmed screensaver all fail it.
 */
function looksLikeHome(p: Picture): boolean {
  const at = (fx: number, fy: number): [number, number, number] => {
    const i = (Math.floor(fy * p.height) * p.width + Math.floor(fx * p.width)) * 3;
    return [p.rgb[i]!, p.rgb[i + 1]!, p.rgb[i + 2]!];
  };
  const [r1, g1, b1] = at(0.2, 0.24); // the lit menu item
  const [r2, g2, b2] = at(0.22, 0.5); // the menu, between two items
  const [r3, , b3] = at(0.6, 0.3); // the backdrop
  return b1 > r1 + 80 && g1 > r1 + 50 && Math.max(r2, g2, b2) < 60 && Math.abs(b2 - r2) < 20 && b3 > r3 + 20;
}

describe("the kodi task, booted as an appliance", { timeout: 900000 }, () => {
  let vm: Vm | undefined;
  let rpc: number;
  let wav: string;
  before(async () => {
    const build = testBuild("debian");
    const disk = bootDisk({ build, dir: scratch("kodi"), spareMiB: 128 });
    rpc = await freePort();
    wav = join(scratch("kodi-sound"), "played.wav");
    const r = await boot(build, [{ file: disk, bus: "virtio" }], "ptask=kodi pautostart=kodi", {
      ...DEBIAN_BOOT,
      net: { forwards: [{ host: rpc, guest: 8080 }] },
      display: true,
      // What Kodi plays is written to a WAV file here.
      sound: { wav },
      // Mesa's llvmpipe crashes on QEMU's emulation of AVX2.
      cpu: "Nehalem",
    });
    vm = r.vm;
  });
  after(async () => vm?.kill());

  it("stacks the task's layer on top of the system", async () => {
    const lowers = lowerDirs((await guestMounts(vm!)).get("/")!.options);
    assert.deepEqual(lowers, ["/pup_ro3", "/pup_b", "/pup_ro2", "/pup_z"]);
    assert.match(await vm!.check("dpkg-query -W -f '${Status}\\n' kodi kodi-bin"), /^(install ok installed\n?){2}$/);
  });

  it("starts Kodi, whose JSON-RPC says through a forwarded port that the home window is shown", async () => {
    const deadline = Date.now() + 420000;
    let window: { id: number; label: string } | null = null;
    while (Date.now() < deadline) {
      window = await kodiWindow(rpc);
      if (window?.id === 10000) break;
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    assert.deepEqual(
      window,
      { id: 10000, label: "Home" },
      `Kodi's log:\n${await vm!.run("tail -30 /root/.kodi/temp/kodi.log")}`,
    );
    // The task's own health check agrees, in the guest.
    await vm!.check(TASKS.kodi!.health, 30000);
  });

  it("draws its home screen on the display (out/test-artifacts/kodi-home.png)", async () => {
    // Kodi dims the screen after a few idle minutes: not while this looks.
    await kodiRpc(rpc, "Settings.SetSettingValue", { setting: "screensaver.mode", value: "" });
    // The window is Home as soon as Kodi says so; llvmpipe draws it some seconds later.
    const picture = await screenUntil(vm!, looksLikeHome, 180000, join(ARTIFACTS, "kodi-home.png"));
    assert.ok(looksLikeHome(picture), "the screen is not Kodi's home screen: see out/test-artifacts/kodi-home.png");
  });

  it("plays sound through ALSA on the machine's sound card: a tone it plays reaches the card's output", async () => {
    // The card's driver (snd_hda_intel) came from the boot's coldplug; Kodi lists ALSA's devices in its log.
    assert.match(await vm!.check("cat /proc/asound/cards"), /HDA-Intel/);
    const devices = await vm!.check(
      "sed -n '/Enumerated ALSA devices:/,/Enumerated [A-Z]* devices:/p' /root/.kodi/temp/kodi.log | grep m_deviceName",
    );
    assert.match(devices, /m_deviceName\s*: \S*CARD=Intel/, devices);
    // A tone made here, served to Kodi over HTTP and played; QEMU writes what the card plays to the WAV file.
    const served = scratch("kodi-tone");
    writeFileSync(join(served, "tone.wav"), toneWav(440, 3));
    const files = await serveAptRepo(served);
    const heard = (): boolean => {
      const data = existsSync(wav) ? readFileSync(wav).subarray(44) : Buffer.alloc(0);
      // 16-bit samples: a tone has some far from silence.
      for (let i = 0; i + 1 < data.length; i += 2) if (Math.abs(data.readInt16LE(i)) > 1000) return true;
      return false;
    };
    try {
      await kodiRpc(rpc, "Player.Open", { item: { file: `${files.url}tone.wav` } });
      const deadline = Date.now() + 60000;
      while (!heard() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2000));
    } finally {
      await files.close();
    }
    assert.ok(heard(), `only silence reached the sound card (${existsSync(wav) ? statSync(wav).size : 0} bytes)`);
  });
});
