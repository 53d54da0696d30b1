// An SD card's last partition grows to fill the card at the first boot, as
// Puppy's check_resize_part does: only mmcblk0, only an MBR, only when the
// last partition is ext2/3/4 and at least 10,000 KiB of the card are left
// over. A Raspberry Pi image is written small; the card it lands on is not.
// The decision reads bytes only (unit-tested); the init does the rest.

/** The card a board boots from (Puppy's rule: the first one only). */
export const CARD = "mmcblk0";
/** Less than this left over (10,000 KiB) is not worth a change to the partition table. */
const MIN_GROWTH_SECTORS = 20000;
const EXTENDED = new Set([0x05, 0x0f, 0x85]);
const GPT_PROTECTIVE = 0xee;

export interface CardGrowth {
  /** 1 to 4. */
  partition: number;
  /** Where the entry's sector count is in the MBR (bytes), and the new count, little-endian. */
  sizeOffset: number;
  sizeBytes: Uint8Array;
  oldSectors: number;
  newSectors: number;
}

const le32 = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;

/**
 * What to change in the card's MBR (its first 512 bytes) to grow the last
 * partition to the card's end, or why nothing is changed. `fstypeOf` names
 * the filesystem on partition N.
 */
export function planCardGrowth(
  mbr: Uint8Array,
  diskSectors: number,
  fstypeOf: (n: number) => string,
): CardGrowth | string {
  if (mbr.length < 512 || mbr[510] !== 0x55 || mbr[511] !== 0xaa) return "it has no MBR";
  const entries = [0, 1, 2, 3].map((i) => {
    const at = 446 + 16 * i;
    return { n: i + 1, type: mbr[at + 4]!, start: le32(mbr, at + 8), sectors: le32(mbr, at + 12), at };
  });
  if (entries.some((e) => e.type === GPT_PROTECTIVE)) return "it has a GPT, not an MBR";
  const used = entries.filter((e) => e.type !== 0 && e.sectors > 0);
  if (used.length === 0) return "it has no partitions";
  if (used.some((e) => EXTENDED.has(e.type))) return "it has an extended partition";
  const last = used.reduce((a, b) => (b.start + b.sectors > a.start + a.sectors ? b : a));
  const fs = fstypeOf(last.n);
  if (!/^ext[234]$/.test(fs)) return `its last partition (${last.n}) holds ${fs || "no filesystem"}, not ext2/3/4`;
  // An MBR counts sectors in 32 bits (2 TiB).
  const newSectors = Math.min(diskSectors - last.start, 0xffffffff);
  if (newSectors - last.sectors < MIN_GROWTH_SECTORS)
    return `less than 10,000 KiB of it is left over after partition ${last.n}`;
  const sizeBytes = new Uint8Array([
    newSectors & 0xff,
    (newSectors >>> 8) & 0xff,
    (newSectors >>> 16) & 0xff,
    newSectors >>> 24,
  ]);
  return { partition: last.n, sizeOffset: last.at + 12, sizeBytes, oldSectors: last.sectors, newSectors };
}
