// `ramstack build`: a frugal install from Debian's packages.

import { resolve } from "node:path";
import type { BuildOptions } from "../build/build.js";
import { build, DEFAULT_EPOCH, defaultDistro } from "../build/build.js";
import { refreshAnswers } from "../build/cache.js";
import { PROFILE_NAMES, PROFILES } from "../build/profiles.js";
import { parseCompression } from "../build/squashfs.js";
import { DEBIAN_HELP } from "../build/debian-help.js";
import { parseTasks, TASK_NAMES, TASKS } from "../tasks/table.js";
import type { Arch } from "../build/arch.js";
import { ARCHES, parseArch } from "../build/arch.js";
import { portProgress } from "./progress.js";
import { defaultPort } from "../port/default.js";
import type { OptionDef } from "./args.js";
import { optionsHelp, parseArgs, UsageError, optionValue } from "./args.js";

const OPTIONS: OptionDef[] = [
  {
    name: "out",
    value: "DIR",
    help: "where the frugal install goes (default: out/PROFILE, out/PROFILE-ARCH for another arch)",
  },
  {
    name: "arch",
    value: "A",
    help: `the architecture: ${ARCHES.join(", ")} (arm64: for the Raspberry Pi and QEMU's virt; boot with ramstack run --board virt; the debian profile's install runs through qemu-user)`,
    default: "amd64",
  },
  {
    name: "profile",
    value: "NAME",
    help: `which layers are made and what they hold: ${PROFILE_NAMES.join(", ")}`,
    default: "tiny",
  },
  {
    name: "comp",
    value: "C",
    help: "SFS compression: xz, gzip, zstd or zstd:LEVEL (default xz; zstd:19 for the debian profile, whose boot reads many files)",
  },
  {
    name: "humongous",
    help: "also put the SFS files inside initrd.gz (Puppy's humongous initrd): it boots without any disk",
  },
  {
    name: "fast",
    help: "for test builds: quick compression (zstd:3 SFS); the files are larger",
  },
  {
    name: "refresh",
    help: "ask apt and npm for the newest versions again (their answers are otherwise kept: apt's until its lists change, npm's for a day)",
  },
  { name: "version", value: "V", help: "DISTRO_VERSION (default: ramstack's version)" },
  {
    name: "task",
    value: "T,...",
    help: `task layers to make, one SFS each (debian profile): ${TASK_NAMES.join(", ")}; boot with ptask=T,... to stack them`,
  },
  { name: "json", help: "print the result as JSON" },
  { name: "help", help: "show this help" },
];

export const BUILD_HELP = `Usage: ramstack build [--out DIR] [--profile tiny] [--comp xz|zstd[:N]] [--fast] [--humongous] [--refresh]
                     [--profile debian --task T,...] [--arch arm64]

Builds a frugal install from Debian's packages: vmlinuz (Debian's kernel),
initrd.gz (the ramstack init on its small JavaScript runtime, busybox and the modules that reach
disks), puppy_PREFIX_VERSION.sfs (the system) and zdrv_PREFIX_VERSION.sfs
(every kernel module and firmware). A profile may add Puppy's other layers:
adrv_PREFIX_VERSION.sfs (applications), ydrv (patches), fdrv (firmware) and
bdrv (Debian's base libraries), filled from Debian packages and their
dependencies. Packages are fetched once into
~/.cache/ramstack (RAMSTACK_CACHE overrides). Outputs whose inputs have not
changed are kept, and building twice gives identical files.

${optionsHelp(OPTIONS)}

Profiles:
${PROFILE_NAMES.map((n) => `  ${n.padEnd(9)} ${PROFILES[n]!.description}`).join("\n")}

${DEBIAN_HELP}

Tasks (--task, debian profile; each is TASK_PREFIX_VERSION.sfs, stacked at boot by ptask=TASK):
${TASK_NAMES.map((n) => `  ${n.padEnd(9)} ${TASKS[n]!.purpose}`).join("\n")}`;

export async function runBuild(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, OPTIONS);
  if (a.flags.has("help")) {
    out(BUILD_HELP);
    return 0;
  }
  if (a.positional.length) throw new UsageError(`unexpected argument '${a.positional[0]}'`);
  const profileName = optionValue(a, OPTIONS, "profile")!;
  const profile = PROFILES[profileName];
  if (!profile) throw new UsageError(`unknown profile '${profileName}' (known: ${PROFILE_NAMES.join(", ")})`);
  const fast = a.flags.has("fast");
  let compression;
  try {
    compression = parseCompression(a.options.get("comp")?.[0] ?? (fast ? "zstd:3" : (profile.compression ?? "xz")));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const distro = defaultDistro(profileName);
  const version = a.options.get("version")?.[0];
  if (version !== undefined) {
    if (!/^[\w.+-]+$/.test(version))
      throw new UsageError(`--version '${version}' may hold letters, digits and . + - _ only`);
    distro.version = version;
  }
  const json = a.flags.has("json");
  let tasks: string[] = [];
  try {
    tasks = (a.options.get("task") ?? []).flatMap(parseTasks);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (tasks.length && !profile.debian) throw new UsageError("--task needs --profile debian");
  let arch: Arch;
  try {
    arch = parseArch(optionValue(a, OPTIONS, "arch")!);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (a.flags.has("refresh")) refreshAnswers();
  const opts: BuildOptions = {
    out: resolve(a.options.get("out")?.[0] ?? (arch === "amd64" ? `out/${profileName}` : `out/${profileName}-${arch}`)),
    arch,
    profile,
    distro,
    compression,
    epoch: Number(process.env.SOURCE_DATE_EPOCH ?? DEFAULT_EPOCH),
    humongous: a.flags.has("humongous"),
    tasks,
    log: (l) => process.stderr.write(`build: ${l}\n`),
    progress: json ? null : portProgress(defaultPort()),
  };
  const r = await build(opts);
  if (json) out(JSON.stringify(r, null, 2));
  else {
    out(`Built ${distro.name} ${distro.version} for ${arch} (kernel ${r.kernelRelease}) in ${r.dir}:`);
    for (const f of r.files)
      out(
        `  ${f.name.padEnd(28)} ${(f.bytes / 1048576).toFixed(1).padStart(7)} MiB  ${f.rebuilt ? "built" : "up to date"}`,
      );
    if (r.missingModules.length) out(`  (built into the kernel or absent: ${r.missingModules.join(", ")})`);
  }
  return 0;
}
