// The SD card's growth at the first boot (Puppy's check_resize_part): what
// is changed in the MBR, and every case where nothing is.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planCardGrowth } from "../../src/init/grow-card.js";
import { piCmdline, piConfig } from "../../src/build/pi-image.js";

/** An MBR with these primary partitions: [type, start sector, sectors]. */
function mbr(...parts: [number, number, number][]): Uint8Array {
  const b = new Uint8Array(512);
  parts.forEach(([type, start, sectors], i) => {
    const at = 446 + 16 * i;
    b[at + 4] = type;
    new DataView(b.buffer).setUint32(at + 8, start, true);
    new DataView(b.buffer).setUint32(at + 12, sectors, true);
  });
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

const ext4 = (): string => "ext4";
const MiB = 2048;

describe("growing the card's last partition", () => {
  it("grows an ext4 last partition to the card's end, changing only its sector count", () => {
    const g = planCardGrowth(mbr([0x0c, 1 * MiB, 115 * MiB], [0x83, 116 * MiB, 16 * MiB]), 256 * MiB, ext4);
    assert.ok(typeof g !== "string", String(g));
    assert.equal(g.partition, 2);
    assert.equal(g.oldSectors, 16 * MiB);
    assert.equal(g.newSectors, 140 * MiB);
    assert.equal(g.sizeOffset, 446 + 16 + 12);
    assert.equal(new DataView(g.sizeBytes.buffer).getUint32(0, true), 140 * MiB);
  });
  it("takes the partition that ends last, whatever its slot", () => {
    const g = planCardGrowth(mbr([0x83, 200 * MiB, 10 * MiB], [0x0c, 1 * MiB, 100 * MiB]), 1024 * MiB, (n) =>
      n === 1 ? "ext4" : "vfat",
    );
    assert.ok(typeof g !== "string");
    assert.equal(g.partition, 1);
  });
  it("stops at the 2 TiB an MBR can count", () => {
    const g = planCardGrowth(mbr([0x83, MiB, MiB]), 2 ** 33, ext4);
    assert.ok(typeof g !== "string");
    assert.equal(g.newSectors, 0xffffffff);
  });
  const cases: [string, Uint8Array, number, (n: number) => string, RegExp][] = [
    ["no boot signature", new Uint8Array(512), 256 * MiB, ext4, /no MBR/],
    ["a GPT", mbr([0xee, 1, 256 * MiB - 1]), 512 * MiB, ext4, /GPT/],
    ["an extended partition", mbr([0x0c, MiB, MiB], [0x05, 2 * MiB, MiB]), 512 * MiB, ext4, /extended/],
    ["a FAT last partition", mbr([0x0c, MiB, MiB]), 512 * MiB, () => "vfat", /holds vfat, not ext/],
    ["less than 10,000 KiB left", mbr([0x83, MiB, 100 * MiB]), 101 * MiB + 19999, ext4, /less than 10,000 KiB/],
    ["no partitions", mbr(), 512 * MiB, ext4, /no partitions/],
  ];
  for (const [what, table, sectors, fs, why] of cases)
    it(`leaves a card with ${what} as it is`, () => {
      const g = planCardGrowth(table, sectors, fs);
      assert.equal(typeof g, "string");
      assert.match(g as string, why);
    });
});

describe("a Raspberry Pi card's boot files", () => {
  it("config.txt: 64-bit, the kernel and initrd by name, upstream device trees", () => {
    const c = piConfig();
    for (const line of ["arm_64bit=1", "upstream_kernel=1", "kernel=vmlinuz", "initramfs initrd.gz followkernel"])
      assert.match(c, new RegExp(`^${line}$`, "m"));
  });
  it("cmdline.txt: one line, the chosen console last, CMA for a Pi 3 only", () => {
    assert.equal(piCmdline("rpi3", "serial", "pfix=ram"), "console=tty1 console=ttyS1,115200 cma=64M pfix=ram\n");
    assert.equal(piCmdline("rpi4", "vga", ""), "console=ttyS1,115200 console=tty1\n");
  });
});
