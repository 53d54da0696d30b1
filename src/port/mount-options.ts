// mount(8)-style options ("loop,ro,noatime,size=50%") as mount(2) takes
// them: flags by name, the rest as the filesystem's data string, and
// "loop" as a request to attach the source to a loop device first. What
// busybox's mount did for the QuickJS port before it called mount(2) itself.

/** The MS_* flags options can set: the port reads their values from ramstack:sys. */
export type MountFlag =
  | "MS_RDONLY"
  | "MS_NOSUID"
  | "MS_NODEV"
  | "MS_NOEXEC"
  | "MS_SYNCHRONOUS"
  | "MS_REMOUNT"
  | "MS_DIRSYNC"
  | "MS_NOATIME"
  | "MS_NODIRATIME"
  | "MS_BIND"
  | "MS_REC"
  | "MS_RELATIME"
  | "MS_STRICTATIME"
  | "MS_LAZYTIME"
  | "MS_SILENT";

/** Option -> the flags it sets and the flags it clears; later options win, as in mount(8). */
const FLAG_OPTIONS = new Map<string, { set?: MountFlag[]; clear?: MountFlag[] }>(
  Object.entries({
    ro: { set: ["MS_RDONLY"] },
    rw: { clear: ["MS_RDONLY"] },
    nosuid: { set: ["MS_NOSUID"] },
    suid: { clear: ["MS_NOSUID"] },
    nodev: { set: ["MS_NODEV"] },
    dev: { clear: ["MS_NODEV"] },
    noexec: { set: ["MS_NOEXEC"] },
    exec: { clear: ["MS_NOEXEC"] },
    sync: { set: ["MS_SYNCHRONOUS"] },
    async: { clear: ["MS_SYNCHRONOUS"] },
    dirsync: { set: ["MS_DIRSYNC"] },
    remount: { set: ["MS_REMOUNT"] },
    noatime: { set: ["MS_NOATIME"], clear: ["MS_RELATIME", "MS_STRICTATIME"] },
    atime: { clear: ["MS_NOATIME"] },
    nodiratime: { set: ["MS_NODIRATIME"] },
    diratime: { clear: ["MS_NODIRATIME"] },
    relatime: { set: ["MS_RELATIME"], clear: ["MS_NOATIME", "MS_STRICTATIME"] },
    norelatime: { clear: ["MS_RELATIME"] },
    strictatime: { set: ["MS_STRICTATIME"], clear: ["MS_NOATIME", "MS_RELATIME"] },
    lazytime: { set: ["MS_LAZYTIME"] },
    nolazytime: { clear: ["MS_LAZYTIME"] },
    bind: { set: ["MS_BIND"] },
    rbind: { set: ["MS_BIND", "MS_REC"] },
    silent: { set: ["MS_SILENT"] },
    loud: { clear: ["MS_SILENT"] },
    defaults: {},
  } satisfies Record<string, { set?: MountFlag[]; clear?: MountFlag[] }>),
);

export interface MountCall {
  /** Flags to OR together, in a stable order. */
  flags: MountFlag[];
  /** What the filesystem parses itself (size=, lowerdir=, codepage=…), comma-separated; "" for none. */
  data: string;
  /** Attach the source to a loop device first. */
  loop: boolean;
  readOnly: boolean;
}

export function mountCall(options: readonly string[]): MountCall {
  const flags = new Set<MountFlag>();
  const data: string[] = [];
  let loop = false;
  for (const o of options) {
    if (o === "") continue;
    if (o === "loop") {
      loop = true;
      continue;
    }
    const f = FLAG_OPTIONS.get(o);
    if (!f) {
      data.push(o);
      continue;
    }
    for (const c of f.clear ?? []) flags.delete(c);
    for (const s of f.set ?? []) flags.add(s);
  }
  return { flags: [...flags].sort(), data: data.join(","), loop, readOnly: flags.has("MS_RDONLY") };
}
