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

/** Where the running system sees an initrd path (every /pup_* and /mnt/* mount moves under /initrd). */
export function underInitrd(path: string): string {
  return `/initrd${path}`;
}

/** The link that names the save layer in a PUPMODE: /pup_rw in 12, /pup_ro1 in 13; none otherwise. */
export function saveLayerLink(pupmode: number): string | null {
  return pupmode === 12 ? PUP_RW : pupmode === 13 ? PUP_RO1 : null;
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

const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

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
