// A cpio "newc" archive writer for initramfs images: deterministic (sorted
// names, owner root, one fixed time) and able to hold device nodes without
// root privileges.

import { lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { run } from "../sys/exec.js";

export interface CpioEntry {
  name: string;
  mode: number;
  data?: Buffer;
  /** Device numbers for character/block devices. */
  rdev?: [number, number];
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

export function cpioArchive(entries: readonly CpioEntry[], mtime: number): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const push = (e: CpioEntry, nlink: number): void => {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(e.name + "\0", "utf8");
    const [maj, min] = e.rdev ?? [0, 0];
    const header =
      "070701" + [ino++, e.mode, 0, 0, nlink, mtime, data.length, 0, 0, maj, min, name.length, 0].map(hex).join("");
    parts.push(
      Buffer.from(header, "ascii"),
      name,
      Buffer.alloc(pad4(110 + name.length)),
      data,
      Buffer.alloc(pad4(data.length)),
    );
  };
  for (const e of entries) push(e, (e.mode & 0o170000) === S_IFDIR ? 2 : 1);
  push({ name: "TRAILER!!!", mode: 0 }, 1);
  const out = Buffer.concat(parts);
  // Pad to whole 512-byte blocks, as cpio does.
  return Buffer.concat([out, Buffer.alloc((512 - (out.length % 512)) % 512)]);
}

/** Every file under a directory, parents first, in sorted order. */
export function cpioEntriesFromDir(root: string, prefix = ""): CpioEntry[] {
  const out: CpioEntry[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const full = join(root, r);
      const st = lstatSync(full);
      const perm = st.mode & 0o7777;
      const archName = prefix ? `${prefix}/${r}` : r;
      if (st.isDirectory()) {
        out.push({ name: archName, mode: S_IFDIR | perm });
        walk(r);
      } else if (st.isSymbolicLink())
        out.push({ name: archName, mode: S_IFLNK | 0o777, data: Buffer.from(readlinkSync(full)) });
      else if (st.isFile()) out.push({ name: archName, mode: S_IFREG | perm, data: readFileSync(full) });
      else throw new Error(`${full}: only files, directories and symlinks go into an initrd tree`);
    }
  };
  walk("");
  return out;
}

/**
 * How initrd.gz is compressed: lz4 (the kernel's legacy framing), which the
 * builds use, unpacks about three times faster than zstd; zstd makes it
 * about 10% smaller (the driver image in it is compressed already).
 */
export type InitrdCompression = "zstd" | "lz4";

/**
 * The initrd's last entry. The kernel silently stops unpacking an initramfs
 * that does not fit in RAM; /init runs the init only when this is there.
 */
export const INITRD_END = "initrd.end";

/** About how much RAM unpacking the initrd and starting the init take: the least a tiny build boots with (npm run bench). */
export const INITRD_RAM_MIB = 128;

/**
 * The archive's order: /init first, so that a kernel that runs out of RAM
 * while it unpacks still has it whole (and the init tells the user), then
 * by name.
 */
const order = (name: string): string => (name === "init" ? "" : name);

/**
 * Pack a tree as a compressed initramfs at `out`. The kernel opens
 * /dev/console before /init runs, so the device nodes go in the archive.
 */
export function writeInitrd(tree: string, out: string, mtime: number, compression: InitrdCompression = "zstd"): void {
  const entries: CpioEntry[] = [
    ...cpioEntriesFromDir(tree),
    { name: "dev/console", mode: S_IFCHR | 0o600, rdev: [5, 1] as [number, number] },
    { name: "dev/null", mode: S_IFCHR | 0o666, rdev: [1, 3] as [number, number] },
  ].sort((a, b) => (order(a.name) < order(b.name) ? -1 : order(a.name) > order(b.name) ? 1 : 0));
  entries.push({ name: INITRD_END, mode: S_IFREG | 0o644, data: Buffer.alloc(0) });
  writeFileSync(`${out}.cpio`, cpioArchive(entries, mtime));
  if (compression === "lz4") run("lz4", ["-q", "-l", "-9", "-f", "--rm", `${out}.cpio`, out]);
  else run("zstd", ["-q", "-19", "-T2", "-f", "--rm", `${out}.cpio`, "-o", out]);
  // lz4 1.9.4 keeps its input despite --rm when an output name is given.
  rmSync(`${out}.cpio`, { force: true });
}

/**
 * An initrd with more files at its root: an uncompressed cpio of them
 * followed by the initrd (concatenated archives are part of the initramfs
 * format). They come first because the kernel finds no end to an lz4
 * initrd: an archive after one would be lost. Puppy's humongous initrd is
 * made this way with the SFS files: the init finds them in / and needs no
 * disk.
 */
export function humongousInitrd(initrd: string, files: readonly string[], out: string, mtime: number): void {
  const entries: CpioEntry[] = files.map((f) => ({ name: basename(f), mode: S_IFREG | 0o644, data: readFileSync(f) }));
  // cpioArchive pads to 512-byte blocks: the initrd after it starts aligned.
  writeFileSync(out, Buffer.concat([cpioArchive(entries, mtime), readFileSync(initrd)]));
}
