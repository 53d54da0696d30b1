// `ramstack build`: the recipe. Each output is a named step with a key made
// of everything it is built from; a step whose key has not changed is not
// run again, so a second build is quick and gives the same files.

import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { InitrdCompression } from "./cpio.js";
import { humongousInitrd, writeInitrd } from "./cpio.js";
import { keymapSources } from "./keymaps.js";
import { initrdModules } from "./modules.js";
import type { Arch } from "./arch.js";
import { sha256 } from "../sys/hash.js";
import { componentVersions, fetchComponents, piDeviceTrees, scratchDir } from "./components.js";
import { bundleTools, packageVersion } from "./bundle.js";
import type { Compression } from "./squashfs.js";
import type { SquashOptions } from "./squashfs.js";
import { mksquashfsShowing } from "./squashfs.js";
import type { Progress, ProgressOut } from "../lib/progress.js";
import { progress } from "../lib/progress.js";
import type { FetchedDeb } from "./cache.js";
import type { DistroIdentity } from "./trees.js";
import type { BuildInputs } from "./keys.js";
import { hostFacts, initrdKey, keymapsHash, layerKey, rootfsKey, vmlinuzKey, zdrvKey } from "./keys.js";
import type { ExtraLayer, ProfileDef } from "./profiles.js";
import { DEB_EXCLUDES, EXTRA_LAYERS } from "./profiles.js";
import { checkForeignArch, debianBase } from "./debian-base.js";
import { debianBdrvKey, debianBdrvTree, debianMainKey, debianMainTree, debianSfs, debianZdrvKey } from "./debian.js";
import { mergedUsrModules } from "./merged-usr.js";
import { taskKey, taskLayer } from "./task-layer.js";
import { taskDef, TASKS } from "../tasks/table.js";
import {
  distroSpecs,
  headStartModules,
  initrdTree,
  layerTree,
  planLayers,
  sfsName,
  tinyRootfs,
  zdrvTree,
} from "./trees.js";

/** NAME=VERSION as Debian names a package, without another arch's ":arm64" (build.json says the arch). */
const debLabel = (p: FetchedDeb): string => `${p.name.split(":")[0]}=${p.version}`;

export interface BuildOptions {
  out: string;
  /** The architecture built for (default amd64). */
  arch?: Arch;
  profile: ProfileDef;
  distro: DistroIdentity;
  /** For the SFS layers. */
  compression: Compression;
  /** For initrd.gz (default lz4). */
  initrdCompression?: InitrdCompression;
  /** Every file time in the outputs (SOURCE_DATE_EPOCH). */
  epoch: number;
  /** Put the SFS files inside initrd.gz too (Puppy's humongous initrd): the system boots with no disk at all. */
  humongous?: boolean;
  log: (line: string) => void;
  /** Task layers to make (src/tasks/table.ts): the debian profile only. */
  tasks?: string[];
  /** Where the long steps show their progress (stderr); null for none (--json). */
  progress?: ProgressOut | null;
}

export interface BuiltFile {
  name: string;
  bytes: number;
  sha256: string;
  rebuilt: boolean;
}

export interface BuildResult {
  dir: string;
  kernelRelease: string;
  files: BuiltFile[];
  missingModules: string[];
}

export const DEFAULT_EPOCH = 1767225600; // 2026-01-01

/** The identity a profile's build carries: its name is DISTRO_FILE_PREFIX, as in puppy_tiny_0.1.0.sfs. */
export function defaultDistro(profile = "tiny"): DistroIdentity {
  return { name: `ramstack ${profile}`, prefix: profile, version: packageVersion() };
}

const fileSha = (path: string): string => sha256(readFileSync(path));

class Steps {
  readonly files: BuiltFile[] = [];
  constructor(
    private readonly dir: string,
    private readonly log: (s: string) => void,
    private readonly out: ProgressOut | null,
  ) {
    mkdirSync(join(dir, ".stamps"), { recursive: true });
  }

  /** Run make(tmpPath) unless NAME exists with the same key; the output appears whole or not at all. */
  async step(name: string, key: unknown, make: (tmp: string, p: Progress) => void | Promise<void>): Promise<string> {
    const out = join(this.dir, name);
    const stamp = join(this.dir, ".stamps", name);
    const k = sha256(JSON.stringify(key));
    const fresh = !(existsSync(out) && existsSync(stamp) && readFileSync(stamp, "utf8") === k);
    if (fresh) {
      this.log(`building ${name}`);
      const tmp = `${out}.tmp`;
      rmSync(tmp, { force: true });
      await make(tmp, progress(this.out, `build: ${name}`));
      renameSync(tmp, out);
      writeFileSync(stamp, k);
    } else this.log(`${name} is up to date`);
    this.files.push({ name, bytes: statSync(out).size, sha256: fileSha(out), rebuilt: fresh });
    return out;
  }
}

/** An SFS from a tree made in a scratch directory, which is removed afterwards. */
async function sfsFromTree(
  name: string,
  fill: (tree: string) => void,
  out: string,
  opts: SquashOptions,
  p: Progress,
): Promise<void> {
  const tree = scratchDir(name);
  try {
    fill(tree);
    await mksquashfsShowing(tree, out, opts, p);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

export async function build(o: BuildOptions): Promise<BuildResult> {
  const log = o.log;
  mkdirSync(o.out, { recursive: true });
  const arch = o.arch ?? "amd64";
  // The debian profile's install runs the arch's programs: through qemu-user for another arch.
  if (o.profile.debian) checkForeignArch(arch);
  const c = fetchComponents(arch, log);
  const versions = componentVersions(c);
  log(`${arch}: kernel ${c.kernel.release}, busybox ${c.busybox.version}, QuickJS ${c.js.version}`);
  // The host's engine compiles: the bytecode is the same for every arch.
  const bundles = await bundleTools(c.hostJs);
  const extra = EXTRA_LAYERS.filter((k) => o.profile.layers[k]);
  const specs = distroSpecs(o.distro, c.kernel.release, extra, arch);
  const steps = new Steps(o.out, log, o.progress ?? null);
  const sfsOpts = { compression: o.compression, epoch: o.epoch };

  const keymaps = keymapSources();
  if (keymaps.size === 0)
    log("no console keymaps (console-data is not installed): pkeys= will keep the default layout");
  const initrdCompression = o.initrdCompression ?? "lz4";
  const inputs: BuildInputs = {
    arch,
    kernel: versions.kernel,
    busybox: versions.busybox,
    firmware: versions.firmware,
    modulesDep: fileSha(join(c.kernel.root, "lib/modules", c.kernel.release, "modules.dep")),
    initBundle: sha256(bundles.init.source),
    cliBundle: sha256(bundles.cli.source),
    runtime: sha256(
      JSON.stringify({
        js: fileSha(c.js.binary),
        initrdTools: [...c.initrdTools.values()].map(fileSha),
        libs: [...c.libs.values()].map(fileSha),
        tools: [...c.tools.values()].map(fileSha),
      }),
    ),
    jsEngine: fileSha(c.hostJs),
    keymaps: keymapsHash(keymaps, fileSha),
    specs,
    epoch: o.epoch,
    compression: o.compression,
    initrdCompression,
    profile: o.profile.name,
    initrdModules: initrdModules(arch),
    headStart: headStartModules(c.arch),
    debExcludes: DEB_EXCLUDES,
    ...hostFacts(),
  };

  await steps.step("vmlinuz", vmlinuzKey(inputs), (tmp) => copyFileSync(c.kernel.vmlinuz, tmp));
  // The Raspberry Pis' device trees: the firmware (or QEMU) hands the board's own to the kernel.
  const dtbs = piDeviceTrees(c.kernel);
  for (const [name, file] of dtbs)
    await steps.step(name, { ...(vmlinuzKey(inputs) as object), dtb: name }, (tmp) => copyFileSync(file, tmp));

  // The debian profile: a tree made by mmdebstrap, split into the main SFS and bdrv (src/build/debian.ts).
  const debian = o.profile.debian ? await debianBase(o.epoch, arch, log, o.progress ?? null) : null;
  if (debian)
    await steps.step(sfsName("puppy", o.distro), debianMainKey(inputs, debian), (tmp, p) =>
      debianSfs("rootfs", (tree) => debianMainTree(tree, debian, c, bundles.cli, specs), tmp, inputs, true, p),
    );
  else
    await steps.step(sfsName("puppy", o.distro), rootfsKey(inputs), (tmp, p) =>
      sfsFromTree("rootfs", (tree) => tinyRootfs(tree, c, bundles.cli, specs), tmp, sfsOpts, p),
    );

  // Firmware goes in zdrv unless the profile gives it an fdrv.
  const zdrvFirmware = !o.profile.layers.fdrv?.firmware;
  const zdrvKeyed = debian ? debianZdrvKey(zdrvKey(inputs, zdrvFirmware)) : zdrvKey(inputs, zdrvFirmware);
  await steps.step(sfsName("zdrv", o.distro), zdrvKeyed, (tmp, p) =>
    sfsFromTree(
      "zdrv",
      (tree) => {
        zdrvTree(tree, c, zdrvFirmware);
        if (debian) mergedUsrModules(tree);
      },
      tmp,
      sfsOpts,
      p,
    ),
  );

  const layers = planLayers(o.profile, arch, log);
  for (const kind of extra) {
    const layer = layers.get(kind)!;
    if (debian && kind === "bdrv") {
      await steps.step(sfsName(kind, o.distro), debianBdrvKey(inputs, debian), (tmp, p) =>
        debianSfs(kind, (tree) => debianBdrvTree(tree, debian), tmp, inputs, true, p),
      );
      continue;
    }
    const packages = layer.packages.map(debLabel);
    await steps.step(sfsName(kind, o.distro), layerKey(inputs, kind, layer.recipe, packages), (tmp, p) =>
      sfsFromTree(kind, (tree) => layerTree(tree, layer, c, log), tmp, sfsOpts, p),
    );
  }

  let missingModules: string[] = [];
  const sfsFiles = steps.files.filter((f) => f.name.endsWith(".sfs"));
  const humongous = o.humongous ? sfsFiles.map((f) => f.sha256) : null;
  await steps.step("initrd.gz", initrdKey(inputs, humongous), (tmp) => {
    const tree = scratchDir("initrd");
    const made = initrdTree(tree, c, bundles.init, specs, keymaps, sfsOpts);
    missingModules = made.missingModules;
    if (made.keymapsSkipped.length) log(`keymaps loadkeys could not compile: ${made.keymapsSkipped.join(", ")}`);
    writeInitrd(tree, tmp, o.epoch, initrdCompression);
    rmSync(tree, { recursive: true, force: true });
    if (o.humongous) {
      log(`humongous initrd: adding ${sfsFiles.map((f) => f.name).join(", ")}`);
      humongousInitrd(
        tmp,
        sfsFiles.map((f) => join(o.out, f.name)),
        `${tmp}.big`,
        o.epoch,
      );
      renameSync(`${tmp}.big`, tmp);
    }
  });

  // Task layers last: a humongous initrd does not carry them (ptask= stacks them from the disk).
  const tasks = o.tasks ?? [];
  if (tasks.length && !debian) throw new Error("task layers are made for the debian profile (--profile debian)");
  for (const name of tasks) {
    const task = taskDef(name);
    await steps.step(sfsName(name, o.distro), taskKey(inputs, debian!, name, task), (tmp, p) =>
      taskLayer(debian!, name, task, tmp, inputs, p),
    );
  }

  const manifest = {
    arch,
    distro: o.distro,
    profile: o.profile.name,
    layers: Object.fromEntries(
      [...layers].map(([k, l]) => [
        k,
        {
          purpose: l.recipe.purpose,
          packages: debian && k === "bdrv" ? debian.packages : l.packages.map(debLabel),
        },
      ]),
    ),
    tasks: Object.fromEntries(tasks.map((t) => [t, { purpose: TASKS[t]!.purpose, packages: TASKS[t]!.packages }])),
    kernelRelease: c.kernel.release,
    ...(dtbs.size ? { dtbs: [...dtbs.keys()] } : {}),
    components: versions,
    files: Object.fromEntries(steps.files.map((f) => [f.name, { bytes: f.bytes, sha256: f.sha256 }])),
  };
  // Whole or not at all: a VM started from this directory may be reading it.
  writeFileSync(join(o.out, "build.json.tmp"), JSON.stringify(manifest, null, 2) + "\n");
  renameSync(join(o.out, "build.json.tmp"), join(o.out, "build.json"));
  return { dir: o.out, kernelRelease: c.kernel.release, files: steps.files, missingModules };
}

/** What a build directory holds, from its build.json. */
export interface BuildManifest {
  /** Missing in builds made before there was a choice: amd64. */
  arch?: Arch;
  distro: DistroIdentity;
  profile: string;
  layers?: Partial<Record<ExtraLayer, { purpose: string; packages: string[] }>>;
  /** Task layers (--task): NAME_PREFIX_VERSION.sfs. */
  tasks?: Record<string, { purpose: string; packages: string[] }>;
  kernelRelease: string;
  /** The device trees among the files (arm64: the Raspberry Pis'). */
  dtbs?: string[];
  files: Record<string, { bytes: number; sha256: string }>;
}

export function readManifest(dir: string): BuildManifest {
  const path = join(dir, "build.json");
  if (!existsSync(path))
    throw new Error(`${dir} is not a ramstack build (no build.json); run 'ramstack build --out ${dir}' first`);
  return JSON.parse(readFileSync(path, "utf8")) as BuildManifest;
}
