// The tables that drive the planner: boot parameters, filesystems, the
// overlay format. Their derived lists must stay what the code relied on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ARCHIVE_FS,
  canFsck,
  DEFAULT_FILESYSTEMS,
  FS_ALIASES,
  FS_MODULES,
  fsName,
  FSCK_FS,
  isLinuxFs,
  KERNEL_FS_NAME,
  LINUX_FS,
  notSearched,
  WRITABLE_FS,
} from "../../src/plan/filesystems.js";
import {
  AUFS_OPAQUE,
  aufsWhiteoutTarget,
  isAufsMeta,
  isOverlayWhiteout,
  isWhiteoutDevice,
} from "../../src/plan/overlay.js";
import { defaultParams, PARAMS, parseParams } from "../../src/plan/params.js";

const sorted = (xs: readonly string[]) => [...xs].sort();

describe("the filesystem table", () => {
  it("gives the lists the init, the saver and the planner used", () => {
    assert.deepEqual(sorted(LINUX_FS), sorted(["ext2", "ext3", "ext4", "btrfs", "minix", "f2fs", "reiserfs"]));
    assert.deepEqual(sorted(ARCHIVE_FS), sorted(["vfat", "exfat", "msdos"]));
    assert.deepEqual(sorted(FSCK_FS), sorted(["ext2", "ext3", "ext4", "f2fs"]));
    assert.deepEqual(sorted(WRITABLE_FS), sorted([...LINUX_FS, ...ARCHIVE_FS, "ntfs"]));
    assert.deepEqual(
      sorted(DEFAULT_FILESYSTEMS),
      sorted([
        "ext2",
        "ext3",
        "ext4",
        "vfat",
        "msdos",
        "exfat",
        "iso9660",
        "squashfs",
        "btrfs",
        "f2fs",
        "ntfs",
        "overlay",
      ]),
    );
    assert.deepEqual(FS_ALIASES, { isofs: "iso9660", ntfs3: "ntfs", fuseblk: "" });
    assert.deepEqual(KERNEL_FS_NAME, { ntfs: "ntfs3" });
    assert.deepEqual(FS_MODULES.ext3, { module: "ext4", with: ["crc32c_generic", "crc32c_intel"] });
    assert.deepEqual(FS_MODULES.ntfs, { module: "ntfs3", with: [] });
    assert.deepEqual(
      sorted(Object.keys(FS_MODULES)),
      sorted(["ext2", "ext3", "ext4", "vfat", "exfat", "iso9660", "squashfs", "overlay", "ntfs", "btrfs"]),
    );
  });
  it("answers the questions the planner asks", () => {
    assert.deepEqual(
      [isLinuxFs("ext4"), isLinuxFs("vfat"), canFsck("f2fs"), canFsck("btrfs")],
      [true, false, true, false],
    );
    assert.deepEqual([fsName("ntfs3"), fsName("fuseblk"), fsName("ext4")], ["ntfs", "fuseblk", "ext4"]);
    assert.deepEqual(
      [notSearched(""), notSearched("swap"), notSearched("ext4")],
      ["no filesystem", "swap is not searched", null],
    );
  });
});

describe("the overlay format", () => {
  it("tells overlay and aufs whiteouts", () => {
    assert.equal(isOverlayWhiteout({ isCharacterDevice: () => true, rdev: 0 }), true);
    assert.equal(isOverlayWhiteout({ isCharacterDevice: () => true, rdev: 259 }), false);
    assert.deepEqual(
      [aufsWhiteoutTarget(".wh.e.txt"), aufsWhiteoutTarget(AUFS_OPAQUE), aufsWhiteoutTarget("e.txt")],
      ["e.txt", null, null],
    );
    assert.equal(isAufsMeta(".wh..wh.plnk"), true);
    assert.deepEqual(
      [isWhiteoutDevice(true, 0, 0), isWhiteoutDevice(true, 0, 1), isWhiteoutDevice(false, 0, 0)],
      [true, false, false],
    );
  });
});

describe("the boot parameter table", () => {
  it("has a reader for every parameter the init reads, and a default for every field", () => {
    for (const d of PARAMS) if (d.name !== "autosave") assert.ok(d.setting, d.name);
    const p = defaultParams();
    assert.equal(p.waitdev, 5);
    assert.deepEqual(p.pimod, []);
    assert.deepEqual(parseParams("").params, p);
  });
  it("names the BOOT_SPECS variables once each", () => {
    const names = PARAMS.map((d) => d.setting?.bootSpec).filter((n): n is string => !!n);
    assert.deepEqual(
      sorted(names),
      sorted([
        "PMEDIA",
        "PSUBDIR",
        "PUPSFS",
        "PDRV",
        "ZDRV",
        "FDRV",
        "ADRV",
        "YDRV",
        "BDRV",
        "PSAVE",
        "PSAVEMARK",
        "PIMOD",
        "PKEYS",
        "PLANG",
        "PUNIONFS",
        "WAITDEV",
      ]),
    );
  });
});
