// A Raspberry Pi's SD card image on QEMU's raspi3b. QEMU does not run the
// Pi's GPU firmware, so what it would do is done here: the kernel, the
// board's device tree, the initrd and cmdline.txt come from the card's boot
// partition.

import { mkdtempSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ImageManifest } from "../build/image.js";
import { readBootCmdline, readBootFile } from "../build/pi-image.js";
import { BOARDS } from "./boards.js";
import type { VmOptions } from "./qemu.js";

/** The boot files' folders, removed when the process exits (one listener for every card booted). */
const bootDirs = new Set<string>();
function bootFilesDir(): string {
  if (bootDirs.size === 0)
    process.once("exit", () => {
      for (const d of bootDirs) rmSync(d, { recursive: true, force: true });
    });
  const dir = mkdtempSync(join(tmpdir(), "ramstack-pi-"));
  bootDirs.add(dir);
  return dir;
}

/**
 * The VM for a card image; the image grows to a power of two first, as
 * QEMU's SD cards must be: the next one, or CARD_MIB (a card smaller than
 * the image is refused).
 */
export function piCardVm(
  image: string,
  m: ImageManifest,
  log: (s: string) => void = () => {},
  cardMiB?: number,
): VmOptions {
  // As a card bigger than the image: the first boot fills it.
  const bytes = statSync(image).size;
  const card = cardMiB === undefined ? 2 ** Math.ceil(Math.log2(bytes)) : cardMiB * 1048576;
  if (card < bytes) throw new Error(`${image} is ${Math.ceil(bytes / 1048576)} MiB: more than a ${cardMiB} MiB card`);
  if (card !== bytes) {
    log(`${image} grows to ${card / 1048576} MiB, as a card QEMU can emulate`);
    truncateSync(image, card);
  }
  const dir = bootFilesDir();
  const dtb = BOARDS.rpi3.dtb!;
  for (const f of ["vmlinuz", "initrd.gz", dtb]) readBootFile(image, m, f, join(dir, f));
  return {
    board: "rpi3",
    kernel: join(dir, "vmlinuz"),
    initrd: join(dir, "initrd.gz"),
    dtb: join(dir, dtb),
    append: readBootCmdline(image, m, dir),
    disks: [{ file: image, bus: "sd" }],
  };
}
