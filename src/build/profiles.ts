// Profiles: which layers a build makes and what goes in each. The main SFS
// and zdrv are always made; a profile may ask for Puppy's other layers,
// filled from Debian packages (with their dependencies), firmware or files.

export type ExtraLayer = "fdrv" | "adrv" | "ydrv" | "bdrv";
/** In the order the init stacks them, top first: adrv, ydrv, bdrv over the main SFS, fdrv under it (above zdrv). */
export const EXTRA_LAYERS: readonly ExtraLayer[] = ["adrv", "ydrv", "bdrv", "fdrv"];

export interface LayerRecipe {
  /** What the layer is for, shown by `ramstack build --help`. */
  purpose: string;
  /** Debian packages, with the packages they depend on that no lower layer of the profile holds. */
  debs?: string[];
  /** The kernel's free firmware (otherwise it goes in zdrv). */
  firmware?: boolean;
  /** Files written as given: path -> content. */
  files?: Record<string, string>;
}

export interface ProfileDef {
  name: string;
  description: string;
  layers: Partial<Record<ExtraLayer, LayerRecipe>>;
  /** A Debian system made by mmdebstrap (src/build/debian.ts) instead of the busybox userland: its base goes in bdrv. */
  debian?: boolean;
  /** The SFS compression of a release build when --comp is not given (otherwise xz). */
  compression?: string;
}

/** Paths of Debian packages that a RAM-resident system leaves out. */
export const DEB_EXCLUDES = [
  "usr/share/doc",
  "usr/share/man",
  "usr/share/info",
  "usr/share/lintian",
  "usr/share/locale",
  "usr/share/bug",
];

/** Packages a dependency closure never pulls in: the package manager and its helpers are not on the system. */
export const DEB_NEVER = new Set([
  "dpkg",
  "debconf",
  "cdebconf",
  "perl-base",
  "init-system-helpers",
  "adduser",
  "usrmerge",
  "tar",
]);

export const PROFILES: Record<string, ProfileDef> = {
  tiny: {
    name: "tiny",
    description: "a busybox userland and the ramstack command; modules and firmware in zdrv",
    layers: {},
  },
  layered: {
    name: "layered",
    description:
      "tiny plus every optional layer: Debian's base libraries (bdrv), firmware (fdrv), applications (adrv) and a patch layer (ydrv)",
    layers: {
      bdrv: {
        purpose: "Debian's C library and the shared libraries the applications use",
        debs: ["libc6", "libtinfo6", "libncursesw6"],
      },
      fdrv: { purpose: "the kernel's free firmware", firmware: true },
      adrv: {
        purpose: "applications: nano, e2fsprogs (e2fsck, mke2fs, resize2fs) and cryptsetup",
        debs: ["nano", "e2fsprogs", "cryptsetup-bin"],
      },
      ydrv: {
        purpose: "a patch layer over the main SFS",
        files: { "etc/motd": "ramstack (layered profile): adrv, ydrv, fdrv and bdrv are stacked over the main SFS.\n" },
      },
    },
  },
  debian: {
    name: "debian",
    description:
      "Debian bookworm made by mmdebstrap (apt, dpkg, sysvinit, ifupdown with DHCP, syslog in RAM): Debian's base in bdrv, the ramstack system in the main SFS, modules and firmware in zdrv",
    layers: {
      bdrv: { purpose: "Debian's base system as mmdebstrap makes it (with apt and dpkg), less ramstack's files" },
    },
    debian: true,
    // Every program the boot starts is first read through the SFS's decompressor: under emulation the console's
    // shell came ~5 s sooner with zstd than with xz (18.2 s of uptime against 23.7), for 7 MiB more (main + bdrv 35 MiB; xz 28).
    compression: "zstd:19",
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES);
