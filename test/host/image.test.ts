// Host tier: `ramstack image` with the real sfdisk, mkfs, mtools and GRUB:
// the partition layout, GRUB's boot code where BIOS and UEFI look for it, the
// menu, the same bytes for the same inputs, and clear refusals.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import type { ImageOptions } from "../../src/build/image.js";
import { readImageManifest, writeImage } from "../../src/build/image.js";
import { run } from "../../src/sys/exec.js";
import { cli, scratch, testBuild } from "../helpers/system.js";

interface SfdiskPart {
  node: string;
  start: number;
  size: number;
  type: string;
  name?: string;
}

const partitions = (img: string): SfdiskPart[] =>
  (JSON.parse(run("sfdisk", ["--json", img]).stdout) as { partitiontable: { partitions: SfdiskPart[] } }).partitiontable
    .partitions;

/** The bytes of one partition's filesystem, to look into with mtools or debugfs. */
function extract(img: string, p: SfdiskPart, out: string): string {
  run("dd", [`if=${img}`, `of=${out}`, `bs=512`, `skip=${p.start}`, `count=${p.size}`, "status=none"]);
  return out;
}

describe("ramstack image", { timeout: 600000 }, () => {
  let build: string;
  let dir: string;
  const opts = (o: Partial<ImageOptions>): ImageOptions => ({
    build,
    out: join(dir, "x.img"),
    table: "mbr",
    fs: "ext4",
    label: "RAMSTACK",
    psubdir: "",
    firmware: ["bios", "uefi"],
    console: "vga",
    cmdline: "",
    menuTimeout: 5,
    extra: [],
    ...o,
  });
  before(() => {
    build = testBuild();
    dir = scratch("image");
  });

  it("MBR: ESP first, then the boot partition; boot.img in the MBR points at core.img in the gap", () => {
    const img = join(dir, "mbr.img");
    const m = writeImage(opts({ out: img }));
    const parts = partitions(img);
    assert.deepEqual(
      parts.map((p) => p.type),
      ["ef", "83"],
    );
    assert.equal(parts[0]!.start, 2048);
    assert.deepEqual(
      m.partitions.map((p) => [p.role, p.fstype, p.label]),
      [
        ["esp", "vfat", "EFI"],
        ["boot", "ext4", "RAMSTACK"],
      ],
    );
    const head = readFileSync(img).subarray(0, 1024);
    const bootImg = readFileSync("/usr/lib/grub/i386-pc/boot.img");
    assert.equal(head.readBigUInt64LE(0x5c), 1n, "boot.img loads core.img from sector 1");
    assert.deepEqual(head.subarray(0, 0x5c), bootImg.subarray(0, 0x5c));
    assert.equal(head.readUInt16LE(510), 0xaa55);
    // core.img begins with diskboot.img, whose blocklist reads the rest from sector 2.
    assert.equal(head.readBigUInt64LE(512 + 0x1f4), 2n);
    assert.deepEqual(readImageManifest(img), m);
  });

  it("UEFI: the ESP holds EFI/BOOT/BOOTX64.EFI, a PE image", () => {
    const img = join(dir, "uefi.img");
    writeImage(opts({ out: img, firmware: ["uefi"], table: "gpt" }));
    const parts = partitions(img);
    assert.equal(parts[0]!.type, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    const esp = extract(img, parts[0]!, join(dir, "esp.fat"));
    const efi = run("mtype", ["-i", esp, "::/EFI/BOOT/BOOTX64.EFI"], {
      binary: true,
      env: { ...process.env, MTOOLS_SKIP_CHECK: "1" },
    }).stdoutBuf;
    assert.equal(efi.subarray(0, 2).toString(), "MZ");
    // No BIOS boot: no boot code in the MBR.
    assert.equal(readFileSync(img).readBigUInt64LE(0x5c), 0n);
  });

  it("GPT with BIOS: a BIOS boot partition holds core.img; the frugal files sit in psubdir with the menu", () => {
    const img = join(dir, "gpt.img");
    writeImage(
      opts({
        out: img,
        table: "gpt",
        fs: "vfat",
        label: "STICK",
        psubdir: "/boot/tiny/",
        cmdline: "pmedia=usbflash",
        extra: [{ fstype: "ext4", label: "SAVES", sizeMiB: 16 }],
      }),
    );
    const parts = partitions(img);
    assert.deepEqual(
      parts.map((p) => p.name),
      [undefined, "EFI", "STICK", "SAVES"],
    );
    assert.equal(parts[0]!.type, "21686148-6449-6E6F-744E-656564454649");
    const data = readFileSync(img);
    assert.equal(data.readBigUInt64LE(0x5c), BigInt(parts[0]!.start));
    assert.equal(data.readBigUInt64LE(parts[0]!.start * 512 + 0x1f4), BigInt(parts[0]!.start + 1));
    const fat = extract(img, parts[2]!, join(dir, "boot.fat"));
    const env = { ...process.env, MTOOLS_SKIP_CHECK: "1" };
    const listing = run("mdir", ["-i", fat, "-b", "::/boot/tiny"], { env }).stdout;
    for (const f of ["vmlinuz", "initrd.gz", "puppy_tiny_0.1.0.sfs", "zdrv_tiny_0.1.0.sfs"])
      assert.match(listing, new RegExp(`/${f.replace(/\./g, "\\.")}$`, "m"));
    const cfg = run("mtype", ["-i", fat, "::/boot/grub/grub.cfg"], { env }).stdout;
    assert.match(cfg, /linux \/boot\/tiny\/vmlinuz psubdir=\/boot\/tiny pmedia=usbflash\n/);
    assert.match(cfg, /initrd \/boot\/tiny\/initrd\.gz/);
    assert.match(cfg, /pfix=ram\n/);
    assert.match(cfg, /pfix=rdsh\n/);
    assert.doesNotMatch(cfg, /ttyS0/, "a VGA image leaves the serial line alone");
  });

  it("gives the same bytes for the same build and options", () => {
    const a = join(dir, "same-a.img");
    const b = join(dir, "same-b.img");
    writeImage(opts({ out: a, table: "gpt" }));
    writeImage(opts({ out: b, table: "gpt" }));
    assert.ok(readFileSync(a).equals(readFileSync(b)));
  });

  it("refuses labels, parameters and layouts that could not work, and leaves no file behind", () => {
    const out = join(dir, "bad.img");
    assert.throws(() => writeImage(opts({ out, fs: "vfat", label: "A_VERY_LONG_LABEL" })), /longer than vfat allows/);
    assert.throws(() => writeImage(opts({ out, cmdline: 'pfix=ram"; reboot' })), /may not hold/);
    assert.throws(() => writeImage(opts({ out, psubdir: "../x" })), /may not hold \. or \.\./);
    const five = [1, 2, 3].map((i) => ({ fstype: "ext4" as const, label: `P${i}`, sizeMiB: 8 }));
    assert.throws(() => writeImage(opts({ out, extra: five })), /MBR disk holds 4 partitions/);
    assert.throws(() => writeImage(opts({ out, sizeMiB: 8 })), /too small/);
    assert.equal(spawnSync("ls", [out]).status, 2);
  });

  it("the command prints the layout as JSON, and explains usage errors", () => {
    const r = spawnSync(
      process.execPath,
      [cli, "image", build, "--out", join(dir, "cli.img"), "--firmware", "uefi", "--json"],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout) as { firmware: string[]; partitions: unknown[] };
    assert.deepEqual(m.firmware, ["uefi"]);
    assert.equal(m.partitions.length, 2);
    const bad = spawnSync(process.execPath, [cli, "image", build, "--table", "apm"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--table 'apm' is not one of mbr, gpt/);
    const run2 = spawnSync(process.execPath, [cli, "run", join(dir, "cli.img"), "--cmdline", "pfix=ram"], {
      encoding: "utf8",
    });
    assert.equal(run2.status, 2);
    assert.match(run2.stderr, /boot parameters are in its \/boot\/grub\/grub.cfg/);
    const vga = spawnSync(process.execPath, [cli, "run", join(dir, "cli.img"), "--exec", "true"], { encoding: "utf8" });
    assert.equal(vga.status, 2);
    assert.match(vga.stderr, /--console serial/);
  });
});
