// Every fact about a filesystem the init and the saver rely on, in one
// table: what a save may be on, what fsck can check, which kernel module
// mounts it, and the other names Linux gives it. The lists the rest of the
// code uses are derived from it.

export interface FsFacts {
  /** The name the planner and the machine files use (blkid's). */
  name: string;
  /** Has Unix permissions and links: a save folder or a whole-partition save may live on it. */
  linux?: boolean;
  /** FAT-like: a folder save is kept as an archive (PUPMODE 66). */
  archive?: boolean;
  /** A save file may live on it (Linux and FAT-like filesystems are implied). */
  saveFile?: boolean;
  /** fsck (e2fsck, fsck.f2fs) can check it: pfix=fsckp and fsckme.flg. */
  fsck?: boolean;
  /** The module that gives the kernel this filesystem, and what it needs but does not depend on (crc32c, code pages). */
  module?: { name: string; with: string[] };
  /** Assumed mountable when a machine file does not list the kernel's filesystems. */
  assumed?: boolean;
  /** The name in /proc/filesystems when it differs (ntfs3's driver registers "ntfs3"). */
  kernelName?: string;
  /** Other names Linux uses for it (/proc/filesystems, the driver's name). */
  aliases?: string[];
  /** Never searched for Puppy files: why. */
  notSearched?: string;
}

const EXT4 = { name: "ext4", with: ["crc32c_generic", "crc32c_intel"] };

// prettier-ignore
export const FILESYSTEMS: readonly FsFacts[] = [
  { name: "ext2", linux: true, fsck: true, module: EXT4, assumed: true },
  { name: "ext3", linux: true, fsck: true, module: EXT4, assumed: true },
  { name: "ext4", linux: true, fsck: true, module: EXT4, assumed: true },
  { name: "btrfs", linux: true, module: { name: "btrfs", with: [] }, assumed: true },
  { name: "minix", linux: true },
  { name: "f2fs", linux: true, fsck: true, assumed: true },
  { name: "reiserfs", linux: true },
  { name: "vfat", archive: true, module: { name: "vfat", with: ["nls_cp437", "nls_iso8859_1", "nls_ascii", "nls_utf8"] }, assumed: true },
  { name: "exfat", archive: true, module: { name: "exfat", with: ["nls_utf8"] }, assumed: true },
  { name: "msdos", archive: true, assumed: true },
  { name: "ntfs", saveFile: true, module: { name: "ntfs3", with: [] }, kernelName: "ntfs3", aliases: ["ntfs3"], assumed: true },
  { name: "iso9660", module: { name: "isofs", with: [] }, aliases: ["isofs"], assumed: true },
  { name: "squashfs", module: { name: "squashfs", with: [] }, assumed: true },
  { name: "overlay", module: { name: "overlay", with: [] }, assumed: true },
  { name: "swap", notSearched: "swap is not searched" },
  { name: "crypto_LUKS", notSearched: "crypto_LUKS is not searched" },
];

const names = (test: (f: FsFacts) => boolean | undefined): string[] => FILESYSTEMS.filter(test).map((f) => f.name);
const facts = (fs: string): FsFacts | undefined => FILESYSTEMS.find((f) => f.name === fs);

/** Filesystems that may hold a save folder (and a whole-partition save). */
export const LINUX_FS = names((f) => f.linux);
/** Filesystems an archive save (PUPMODE 66) lives on. */
export const ARCHIVE_FS = names((f) => f.archive);
/** Filesystems fsck can check. */
export const FSCK_FS = names((f) => f.fsck);
/** Where a save file can go: the filesystems the init accepts a save on. */
export const WRITABLE_FS = names((f) => f.linux || f.archive || f.saveFile);
/** Filesystems assumed mountable when the machine file does not say. */
export const DEFAULT_FILESYSTEMS = names((f) => f.assumed);

export const isLinuxFs = (fs: string): boolean => facts(fs)?.linux === true;
export const isArchiveFs = (fs: string): boolean => facts(fs)?.archive === true;
export const canFsck = (fs: string): boolean => facts(fs)?.fsck === true;

/** The module that gives the kernel a filesystem, and what it needs but does not depend on (crc32c, code pages). */
export const FS_MODULES: Record<string, { module: string; with: string[] }> = Object.fromEntries(
  FILESYSTEMS.filter((f) => f.module).map((f) => [f.name, { module: f.module!.name, with: [...f.module!.with] }]),
);

/** The name /proc/filesystems uses for a filesystem, where it is not the planner's. */
export const KERNEL_FS_NAME: Record<string, string> = Object.fromEntries(
  FILESYSTEMS.filter((f) => f.kernelName).map((f) => [f.name, f.kernelName!]),
);

/** Filesystem types in /proc/filesystems that the init never mounts itself: FUSE's (ntfs-3g). */
const FOREIGN_KERNEL_FS = ["fuseblk"];

/** Linux's names for filesystems that the planner knows by another ("" for ones it ignores). */
export const FS_ALIASES: Record<string, string> = Object.fromEntries([
  ...FILESYSTEMS.flatMap((f) => (f.aliases ?? []).map((a) => [a, f.name])),
  ...FOREIGN_KERNEL_FS.map((n) => [n, ""]),
]);

/** The planner's name for a filesystem type (ntfs3 is ntfs). */
export function fsName(fs: string): string {
  return FS_ALIASES[fs] || fs;
}

/** Why a partition of this type is never searched, or null. */
export function notSearched(fs: string): string | null {
  if (fs === "" || fs === "none") return "no filesystem";
  return facts(fs)?.notSearched ?? null;
}
