// Filesystem type, label and UUID read straight from the superblocks, as
// blkid does: no spawn (each costs ~40 ms in an emulated guest), and FAT and
// exFAT labels, which busybox's blkid misses.

import { defaultPort } from "../port/default.js";
import type { Port } from "../port/port.js";
import { hex, latin1, u16le, u32le, utf8Decode } from "../lib/bytes.js";

export interface FsIdentity {
  fstype: string;
  label: string;
  uuid: string;
}

/** Bytes of a device or image at an offset; shorter at the end of the device. */
export type ReadAt = (offset: number, length: number) => Uint8Array;

const ascii = (b: Uint8Array): string => latin1(b).replace(/\0.*$/s, "").trimEnd();
const utf8z = (b: Uint8Array): string => utf8Decode(b).replace(/\0.*$/s, "").trimEnd();
const utf16le = (b: Uint8Array): string =>
  String.fromCharCode(...Array.from({ length: b.length >> 1 }, (_, i) => u16le(b, i * 2)));

function dashedUuid(b: Uint8Array): string {
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A 32-bit FAT/exFAT volume serial as blkid shows it: ABCD-1234. */
function serial32(b: Uint8Array, at: number): string {
  const v = u32le(b, at).toString(16).toUpperCase().padStart(8, "0");
  return `${v.slice(0, 4)}-${v.slice(4)}`;
}

function ext(read: ReadAt): FsIdentity | null {
  const sb = read(1024, 256);
  if (sb.length < 256 || u16le(sb, 0x38) !== 0xef53) return null;
  const compat = u32le(sb, 0x5c);
  const incompat = u32le(sb, 0x60);
  const roCompat = u32le(sb, 0x64);
  // ext4: extents, 64bit, flex_bg (incompat) or huge_file, gdt_csum, dir_nlink, extra_isize (ro_compat).
  const isExt4 = (incompat & (0x40 | 0x80 | 0x200)) !== 0 || (roCompat & (0x8 | 0x10 | 0x20 | 0x40)) !== 0;
  const fstype = isExt4 ? "ext4" : compat & 0x4 ? "ext3" : "ext2";
  return { fstype, uuid: dashedUuid(sb.subarray(0x68, 0x78)), label: utf8z(sb.subarray(0x78, 0x88)) };
}

function vfat(read: ReadAt): FsIdentity | null {
  const bs = read(0, 512);
  if (bs.length < 512 || u16le(bs, 510) !== 0xaa55) return null;
  const fat32 = latin1(bs, 0x52, 0x57) === "FAT32";
  const fat1x = /^FAT1[26]/.test(latin1(bs, 0x36, 0x3b)) || latin1(bs, 0x36, 0x39) === "FAT";
  if (!fat32 && !fat1x) return null;
  const [idAt, labelAt] = fat32 ? [0x43, 0x47] : [0x27, 0x2b];
  const label = ascii(bs.subarray(labelAt, labelAt + 11));
  return { fstype: "vfat", uuid: serial32(bs, idAt), label: label === "NO NAME" ? "" : label };
}

function exfat(read: ReadAt): FsIdentity | null {
  const bs = read(0, 512);
  if (bs.length < 512 || latin1(bs, 3, 11) !== "EXFAT   ") return null;
  const sectorShift = bs[0x6c]!;
  const clusterShift = bs[0x6d]!;
  const heapSector = u32le(bs, 0x58);
  const rootCluster = u32le(bs, 0x60);
  let label = "";
  if (sectorShift >= 9 && sectorShift <= 12 && clusterShift <= 25 && rootCluster >= 2) {
    // The label is an entry (type 0x83) of the root directory's first cluster.
    const clusterBytes = 2 ** (sectorShift + clusterShift);
    const at = heapSector * 2 ** sectorShift + (rootCluster - 2) * clusterBytes;
    const dir = read(at, Math.min(clusterBytes, 64 * 1024));
    for (let o = 0; o + 32 <= dir.length; o += 32) {
      const type = dir[o]!;
      if (type === 0) break;
      if (type !== 0x83) continue;
      const n = Math.min(dir[o + 1]!, 11);
      label = utf16le(dir.subarray(o + 2, o + 2 + n * 2));
      break;
    }
  }
  return { fstype: "exfat", uuid: serial32(bs, 0x64), label };
}

function iso9660(read: ReadAt): FsIdentity | null {
  const pvd = read(0x8000, 2048);
  if (pvd.length < 2048 || latin1(pvd, 1, 6) !== "CD001") return null;
  // blkid's UUID for ISO9660 is the creation time: 2024-01-31-12-00-00-00.
  const t = latin1(pvd, 813, 829);
  const uuid = /^\d{16}$/.test(t)
    ? `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}-${t.slice(8, 10)}-${t.slice(10, 12)}-${t.slice(12, 14)}-${t.slice(14, 16)}`
    : "";
  return { fstype: "iso9660", uuid, label: ascii(pvd.subarray(40, 72)) };
}

function luks(read: ReadAt): FsIdentity | null {
  const h = read(0, 512);
  if (h.length < 512 || latin1(h, 0, 6) !== "LUKS\xba\xbe") return null;
  const version = (h[6]! << 8) | h[7]!;
  return {
    fstype: "crypto_LUKS",
    uuid: ascii(h.subarray(0xa8, 0xa8 + 40)),
    label: version === 2 ? utf8z(h.subarray(0x18, 0x18 + 48)) : "",
  };
}

function btrfs(read: ReadAt): FsIdentity | null {
  const sb = read(0x10000, 0x200);
  if (sb.length < 0x200 || latin1(sb, 0x40, 0x48) !== "_BHRfS_M") return null;
  return { fstype: "btrfs", uuid: dashedUuid(sb.subarray(0x20, 0x30)), label: utf8z(sb.subarray(0x12b, 0x12b + 256)) };
}

function squashfs(read: ReadAt): FsIdentity | null {
  const sb = read(0, 4);
  return latin1(sb) === "hsqs" ? { fstype: "squashfs", uuid: "", label: "" } : null;
}

function ntfs(read: ReadAt): FsIdentity | null {
  const bs = read(0, 512);
  if (bs.length < 512 || latin1(bs, 3, 11) !== "NTFS    ") return null;
  const uuid = hex(bs.slice(0x48, 0x50).reverse()).toUpperCase();
  return { fstype: "ntfs", uuid, label: "" };
}

function swap(read: ReadAt): FsIdentity | null {
  const page = read(4096 - 10, 10);
  return latin1(page) === "SWAPSPACE2" ? { fstype: "swap", uuid: "", label: "" } : null;
}

// Order matters: a FAT boot sector can sit in front of other signatures, so
// the unambiguous magic numbers go first.
const PROBES = [luks, squashfs, ext, btrfs, iso9660, exfat, ntfs, vfat, swap];

export function identify(read: ReadAt): FsIdentity | null {
  for (const probe of PROBES) {
    const id = probe(read);
    if (id) return id;
  }
  return null;
}

/** Identify a block device or image file through the port; null when nothing is recognised. */
export function identifyPath(path: string, offset = 0, port: Pick<Port, "readAt"> = defaultPort()): FsIdentity | null {
  // Unreadable (no such device, no permission): nothing to identify.
  if (port.readAt(path, offset, 1) === undefined) return null;
  const read: ReadAt = (at, length) => {
    return port.readAt(path, offset + at, length) ?? new Uint8Array(0);
  };
  return identify(read);
}
