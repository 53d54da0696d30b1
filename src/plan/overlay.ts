// The on-disk format of a union layer, in one place: overlay's whiteouts and
// opaque directories, aufs's .wh. names, and the upper/ and work/ an overlay
// save keeps. Pure: names and predicates only; making them is the caller's.

/** An overlay save's root holds the layer in upper/ and overlay's scratch dir in work/. */
export const UPPER_DIR = "upper";
export const WORK_DIR = "work";

/** overlay marks a deleted path with a character device 0:0 of the same name. */
export const WHITEOUT_DEV = { major: 0, minor: 0 } as const;
/** From major and minor numbers (a runtime port's lstat). */
export function isWhiteoutDevice(char: boolean, major: number, minor: number): boolean {
  return char && major === WHITEOUT_DEV.major && minor === WHITEOUT_DEV.minor;
}
/** From Node's Stats: rdev 0 is 0:0. */
export function isOverlayWhiteout(st: { isCharacterDevice(): boolean; rdev: number }): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** overlay marks a directory that hides everything below it with this xattr, value "y". */
export const OPAQUE_XATTR = "trusted.overlay.opaque";
export const OPAQUE_VALUE = "y";
/** overlay's own xattrs start with this; only OPAQUE_XATTR belongs in a save. */
export const OVERLAY_XATTR_PREFIX = "trusted.overlay.";

/** aufs marks a deleted NAME with an empty file .wh.NAME, and an opaque directory with .wh..wh..opq in it. */
export const AUFS_WHITEOUT_PREFIX = ".wh.";
export const AUFS_OPAQUE = ".wh..wh..opq";
/** aufs's own bookkeeping (.wh..wh.plnk, .wh..wh.aufs, .wh..wh.orph): also under this prefix. */
export const AUFS_META_PREFIX = ".wh..wh.";

export function isAufsMeta(name: string): boolean {
  return name.startsWith(AUFS_META_PREFIX);
}

/** The NAME an aufs whiteout .wh.NAME deletes; null for other names and aufs's own .wh..wh.* files. */
export function aufsWhiteoutTarget(name: string): string | null {
  if (isAufsMeta(name) || !name.startsWith(AUFS_WHITEOUT_PREFIX)) return null;
  return name.slice(AUFS_WHITEOUT_PREFIX.length);
}
