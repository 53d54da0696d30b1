// Node.js's ICU data, cut down to the languages ramstack speaks. The official
// node binary links in ICU's full data (about 32 MiB: every locale, every
// legacy converter, the CJK and South-East Asian word dictionaries), which
// is a third of the initrd once compressed. Node's own "small-icu" builds
// carry English only; this does the same to the official binary: the linked
// data package is rewritten in place with the items kept, and the bytes it
// no longer uses are zeroed (they compress to nothing). ICU reads the
// package through the exported symbol icudt<N>_dat, so its address stays.

const ELF_MAGIC = 0x464c457f;
const SHT_DYNSYM = 11;

/** Where a symbol's bytes are in an ELF64 file (little-endian), by its dynamic symbol table. */
export function dynamicSymbol(elf: Buffer, match: RegExp): { name: string; offset: number; size: number } | null {
  if (elf.length < 64 || elf.readUInt32LE(0) !== ELF_MAGIC || elf[4] !== 2 || elf[5] !== 1)
    throw new Error("not a 64-bit little-endian ELF file");
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      type: elf.readUInt32LE(at + 4),
      addr: Number(elf.readBigUInt64LE(at + 0x10)),
      offset: Number(elf.readBigUInt64LE(at + 0x18)),
      size: Number(elf.readBigUInt64LE(at + 0x20)),
      link: elf.readUInt32LE(at + 0x28),
    };
  };
  const sections = Array.from({ length: shnum }, (_, i) => section(i));
  const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
  if (!dynsym) return null;
  const strtab = sections[dynsym.link]!;
  for (let at = dynsym.offset; at + 24 <= dynsym.offset + dynsym.size; at += 24) {
    const nameAt = strtab.offset + elf.readUInt32LE(at);
    const name = elf.toString("latin1", nameAt, elf.indexOf(0, nameAt));
    if (!match.test(name)) continue;
    const value = Number(elf.readBigUInt64LE(at + 8));
    const size = Number(elf.readBigUInt64LE(at + 16));
    // The file offset: through the section that holds the address.
    const home = sections.find((s) => s.addr !== 0 && value >= s.addr && value + size <= s.addr + s.size);
    if (!home) throw new Error(`${name} is not inside any section`);
    return { name, offset: home.offset + (value - home.addr), size };
  }
  return null;
}

export interface IcuItem {
  /** "icudt78l/es.res", "icudt78l/coll/root.res", … */
  name: string;
  data: Buffer;
}

/** An ICU common data package ("CmnD"): its header and its items in TOC order. */
export function readIcuPackage(pkg: Buffer): { header: Buffer; items: IcuItem[] } {
  const headerSize = pkg.readUInt16LE(0);
  if (pkg[2] !== 0xda || pkg[3] !== 0x27 || pkg.toString("latin1", 12, 16) !== "CmnD" || pkg[8] !== 0) {
    throw new Error("not a little-endian ICU common data package");
  }
  const toc = headerSize;
  const count = pkg.readUInt32LE(toc);
  const entries = Array.from({ length: count }, (_, k) => ({
    name: pkg.readUInt32LE(toc + 4 + 8 * k),
    data: pkg.readUInt32LE(toc + 8 + 8 * k),
  }));
  const items = entries.map((e, k) => {
    const nameAt = toc + e.name;
    const end = k + 1 < count ? entries[k + 1]!.data : pkg.length - toc;
    return {
      name: pkg.toString("latin1", nameAt, pkg.indexOf(0, nameAt)),
      data: pkg.subarray(toc + e.data, toc + end),
    };
  });
  return { header: pkg.subarray(0, headerSize), items };
}

/** A package of these items: the header as it was, names then data, each item 16-byte aligned (ICU's rule). */
export function writeIcuPackage(header: Buffer, items: readonly IcuItem[]): Buffer {
  const names = Buffer.concat(items.map((i) => Buffer.from(i.name + "\0", "latin1")));
  const tocSize = 4 + 8 * items.length;
  const align = (n: number): number => (n + 15) & ~15;
  let dataAt = align(tocSize + names.length);
  const toc = Buffer.alloc(dataAt);
  toc.writeUInt32LE(items.length, 0);
  let nameAt = tocSize;
  const data: Buffer[] = [];
  items.forEach((item, k) => {
    toc.writeUInt32LE(nameAt, 4 + 8 * k);
    toc.writeUInt32LE(dataAt, 8 + 8 * k);
    nameAt += Buffer.byteLength(item.name, "latin1") + 1;
    const padded = align(item.data.length);
    data.push(item.data, Buffer.alloc(padded - item.data.length));
    dataAt += padded;
  });
  names.copy(toc, tocSize);
  return Buffer.concat([header, toc, ...data]);
}

/** The languages kept (ramstack's console speaks English and Spanish); every other locale falls back to English. */
export const ICU_LOCALES = ["en", "en_US", "en_US_POSIX", "es", "es_ES", "es_419"];

/** A locale's bundle: "fr.res", "sr_Latn_BA.res"; not root, pool or res_index. */
const LOCALE_BUNDLE = /^[a-z]{2,3}(_[A-Za-z0-9]+)*\.res$/;

/**
 * Whether an item stays: everything but other languages' bundles, the
 * legacy converters (TextDecoder keeps UTF-8, UTF-16 and Latin-1, which ICU
 * computes) and the word-break dictionaries of Thai, Lao, Khmer, Burmese
 * and CJK — what Node's small-icu builds leave out too.
 */
export function keepIcuItem(name: string, locales: readonly string[] = ICU_LOCALES): boolean {
  const base = name.slice(name.lastIndexOf("/") + 1);
  if (base.endsWith(".cnv") || base.endsWith(".dict")) return false;
  if (base !== "res_index.res" && LOCALE_BUNDLE.test(base)) return locales.includes(base.slice(0, -4));
  return true;
}

/** The node binary with its linked ICU data cut down; the same size, the same layout. */
export function smallIcu(node: Buffer): {
  binary: Buffer;
  before: number;
  after: number;
  kept: number;
  dropped: number;
} {
  const sym = dynamicSymbol(node, /^icudt\d+_dat$/);
  if (!sym) throw new Error("this node has no linked ICU data (icudt*_dat)");
  const { header, items } = readIcuPackage(node.subarray(sym.offset, sym.offset + sym.size));
  const kept = items.filter((i) => keepIcuItem(i.name));
  const pkg = writeIcuPackage(header, kept);
  if (pkg.length > sym.size) throw new Error("the cut-down ICU data is larger than the original");
  const binary = Buffer.from(node);
  pkg.copy(binary, sym.offset);
  binary.fill(0, sym.offset + pkg.length, sym.offset + sym.size);
  return { binary, before: sym.size, after: pkg.length, kept: kept.length, dropped: items.length - kept.length };
}
