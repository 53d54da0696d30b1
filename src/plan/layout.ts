// Where things are, as Puppy's own scripts look for them: the paths the
// init makes in the initramfs (and moves under /initrd) and the saver reads
// in the running system. One home, so the two sides cannot drift apart.

/** The RAM layer's tmpfs, and the writable layer and overlay work dir in it. */
export const TMPFS = "/mnt/tmpfs";
export const RAM_LAYER = "/mnt/tmpfs/pup_rw";
export const RAM_WORK = "/mnt/tmpfs/pup_work";
/** The partition holding the save, mounted once (PUP_HOME). */
export const DEV_SAVE = "/mnt/dev_save";
/** A save file's own filesystem. */
export const PUP_LOOP = "/pup_loop";
/** PUPMODE 66: the tmpfs an archive save is unpacked into (upper/, work/). */
export const PUP_RW66 = "/pup_rw66";
/** The writable layer's name, whatever it is (a symlink to the layer itself). */
export const PUP_RW = "/pup_rw";
/** The save below the RAM layer in flash mode (13, 77). */
export const PUP_RO1 = "/pup_ro1";
/** overlay's work dir beside a save's upper/, for the union's options. */
export const PUP_WORK = "/pup_work";
/** The union's source in /proc/mounts: Puppy's scripts find the root union by it. */
export const UNION_SOURCE = "unionfs";
/** The generation the running union stacks, relative to the save's root: the saver never prunes it. */
export const SAVE_LAYER_RECORD = "/tmp/save-layer";
/** The JavaScript engine in a runtime's bin/ (the initrd's /runtime, the main SFS's /usr/lib/ramstack/runtime). */
export const RUNTIME_JS = "ramstack-js";

/** Where the running system sees an initrd path (every /pup_* and /mnt/* mount moves under /initrd). */
export function underInitrd(path: string): string {
  return `/initrd${path}`;
}

/** The link that names the save layer in a PUPMODE: /pup_rw in 12, /pup_ro1 in 13; none otherwise. */
export function saveLayerLink(pupmode: number): string | null {
  const f = pupmodeFacts(pupmode);
  return f.saveIsWritable ? PUP_RW : f.flash ? PUP_RO1 : null;
}

/** A save's root (what holds upper/, work/ and .gen/) from the layer a link points to: its upper/. */
export function saveRootOfLayer(layer: string): string | null {
  const m = /^(.*)\/upper\/?$/.exec(layer);
  return m ? m[1] || "/" : null;
}

/** One /proc/mounts line: device, mount point (with \040 and friends decoded), type, options. */
export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
  options: string;
}

const unescapeMount = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMounts(text: string): MountEntry[] {
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [source = "", target = "", fstype = "", options = ""] = l.split(" ");
      return { source: unescapeMount(source), target: unescapeMount(target), fstype, options };
    });
}

/** The root union's lower layers, top first, as its options name them (paths of the initramfs). */
export function unionLowerDirs(mounts: readonly MountEntry[]): string[] {
  const root = mounts.filter((m) => m.target === "/" && m.fstype === "overlay").pop();
  return (/(?:^|,)lowerdir=([^,]+)/.exec(root?.options ?? "")?.[1] ?? "").split(":").filter(Boolean);
}

/** What each PUPMODE means for the union and the saver. */
export interface PupmodeFacts {
  /** A save is stacked (12, 13), or unpacked or copied into RAM (66, 77). */
  save: boolean;
  /** The save is the writable layer: writes reach the disk at once (12). */
  saveIsWritable: boolean;
  /** The session lives in RAM above the save and is merged into it by a save (13). */
  flash: boolean;
  /** An archive on FAT/exFAT, unpacked into RAM and written whole by a save (66). */
  archive: boolean;
  text: string;
}

export const PUPMODES: Readonly<Record<number, PupmodeFacts>> = {
  5: { save: false, saveIsWritable: false, flash: false, archive: false, text: "no save: the session lives in RAM" },
  12: { save: true, saveIsWritable: true, flash: false, archive: false, text: "the save is the writable layer" },
  13: {
    save: true,
    saveIsWritable: false,
    flash: true,
    archive: false,
    text: "flash: writes stay in RAM, merged into the save when saving",
  },
  66: { save: true, saveIsWritable: false, flash: false, archive: true, text: "archive save unpacked into RAM" },
  77: { save: true, saveIsWritable: false, flash: false, archive: false, text: "multisession folders copied into RAM" },
};

/** A PUPMODE's facts; an unknown one has no save. */
export function pupmodeFacts(pupmode: number): PupmodeFacts {
  return PUPMODES[pupmode] ?? { save: false, saveIsWritable: false, flash: false, archive: false, text: "unknown" };
}

/** The mark of a session that has not ended cleanly, at the save partition's root: the next boot checks it. */
export const FSCK_FLAG = "/fsckme.flg";

/** fsckme.flg's line, as Puppy writes it: the partition, its filesystem, and a save file's path (empty for a folder). */
export function fsckFlagText(f: { partition: string; fstype: string; file: string }): string {
  return `${f.partition},${f.fstype},${f.file}\n`;
}

export function parseFsckFlag(text: string): { partition: string; fstype: string; file: string } {
  const [partition = "", fstype = "", file = ""] = text.trim().split(",");
  return { partition, fstype, file };
}
