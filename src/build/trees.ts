// The directory trees that become the runtime, the initrd and the SFS
// layers. Every tree is made from scratch, with fixed modes, so that the
// same components give the same bytes.

import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { run } from "../sys/exec.js";
import { FS_MODULES } from "../plan/filesystems.js";
import { RUNTIME_JS } from "../plan/layout.js";
import {
  HEAD_START_FILE,
  INIT_BYTECODE,
  INITRD_IMAGE_RUNTIME,
  INITRD_MODULES_DIR,
  INITRD_MODULES_IMAGE,
  INITRD_PLAIN_MODULES,
  SYSTEM_RUNTIME,
} from "../port/commands.js";
import { installKeymaps } from "./keymaps.js";
import type { Compression } from "./squashfs.js";
import { mksquashfs } from "./squashfs.js";
import type { Bundle } from "./bundle.js";
import type { Components } from "./components.js";
import { copyInto, piDeviceTrees } from "./components.js";
import { boardModules, dtbCompatibles, LEFT_OUT_LIST, readModuleTable, VIRT_COMPATIBLES } from "./zdrv-select.js";
import type { FetchedDeb } from "./cache.js";
import { debClosure, extractDeb, fetchDeb, hostDebArch } from "./cache.js";
import type { ExtraLayer, LayerRecipe, ProfileDef } from "./profiles.js";
import { DEB_EXCLUDES, DEB_NEVER, EXTRA_LAYERS } from "./profiles.js";
import { initrdModules, installModules, moduleClosure } from "./modules.js";
import type { Arch } from "./arch.js";
import { ARCH, debFor } from "./arch.js";

export interface DistroIdentity {
  name: string;
  prefix: string;
  version: string;
}

export const sfsName = (kind: string, d: DistroIdentity): string => `${kind}_${d.prefix}_${d.version}.sfs`;

export function distroSpecs(
  d: DistroIdentity,
  kernelRelease: string,
  extra: readonly ExtraLayer[] = [],
  arch: Arch = "amd64",
): string {
  return [
    `DISTRO_NAME='${d.name}'`,
    `DISTRO_VERSION='${d.version}'`,
    `DISTRO_FILE_PREFIX='${d.prefix}'`,
    `DISTRO_DB_SUBNAME='${d.prefix}'`,
    `DISTRO_TARGETARCH='${ARCH[arch].targetArch}'`,
    `DISTRO_KERNEL_VERSION='${kernelRelease}'`,
    `DISTRO_PUPPYSFS='${sfsName("puppy", d)}'`,
    `DISTRO_ZDRVSFS='${sfsName("zdrv", d)}'`,
    ...extra.map((k) => `DISTRO_${k.toUpperCase()}SFS='${sfsName(k, d)}'`),
    "",
  ].join("\n");
}

function write(root: string, path: string, text: string | Uint8Array, mode = 0o644): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  // A busybox applet link in the way would make the write overwrite busybox itself.
  rmSync(full, { force: true });
  writeFileSync(full, text);
  chmodSync(full, mode);
}

function link(root: string, path: string, target: string): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  symlinkSync(target, full);
}

function dirs(root: string, names: readonly string[], mode = 0o755): void {
  for (const d of names) {
    mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, d), mode);
  }
}

/** busybox and a symlink for each of its applets, where busybox itself puts them (fullPaths) or all in bin/. */
export function installBusybox(root: string, busybox: Components["busybox"], fullPaths: boolean): void {
  copyInto(busybox.binary, join(root, "bin/busybox"), 0o755);
  for (const applet of fullPaths ? busybox.appletPaths : busybox.applets) {
    const path = fullPaths ? applet : `bin/${applet}`;
    if (path === "bin/busybox") continue;
    const depth = path.split("/").length - 1;
    link(root, path, `${"../".repeat(depth)}bin/busybox`);
  }
}

/**
 * The main SFS's runtime (SYSTEM_RUNTIME): the engine the running system's
 * ramstack runs on, and cryptsetup and tar with their own C library (run
 * through its loader, so they work on any profile). The init uses them too,
 * once it has mounted the main SFS.
 */
export function systemRuntimeTree(root: string, c: Components): void {
  const dir = join(root, SYSTEM_RUNTIME.slice(1));
  copyInto(c.js.binary, join(dir, "bin", RUNTIME_JS), 0o755);
  for (const [soname, file] of [...c.libs].sort()) copyInto(file, join(dir, "lib", soname), 0o755);
  for (const [name, file] of [...c.tools].sort()) copyInto(file, join(dir, "bin", name), 0o755);
}

/**
 * The modules of the filesystems the init's head start loads (HEAD_START_FILE;
 * with more than one CPU, in the background while the init starts), each
 * filesystem's helpers (charsets, crc32c) before it: once the init sees a
 * filesystem in /proc/filesystems, what it needs is loaded too.
 */
export function headStartModules(arch: Arch): string[] {
  return ARCH[arch].headStartFilesystems.flatMap((f) => {
    const m = FS_MODULES[f];
    if (!m) throw new Error(`no module is known for the filesystem ${f}`);
    return [...m.with, m.module];
  });
}

/** The initrd: busybox, the modules that reach disks, the runtime, the init. */
export function initrdTree(
  root: string,
  c: Components,
  init: Bundle,
  specs: string,
  keymaps: Map<string, string>,
  sfs: { compression: Compression; epoch: number },
): { missingModules: string[]; keymapsSkipped: string[] } {
  installBusybox(root, c.busybox, false);
  dirs(root, ["dev", "proc", "sys", "mnt", "pup_new", "etc", "root", "sbin"]);
  dirs(root, ["tmp"], 0o1777);
  // The engine is /init: it runs the init's bytecode when the kernel starts it (native/ramstack_main.c).
  copyInto(c.js.binary, join(root, "init"), 0o755);
  write(root, INIT_BYTECODE.slice(1), init.bytecode);
  write(root, HEAD_START_FILE.slice(1), `${headStartModules(c.arch).join(" ")}\n`);
  write(root, "DISTRO_SPECS", specs);
  const { files, missing } = moduleClosure(c.kernel.root, c.kernel.release, initrdModules(c.arch));
  initrdDriverImage(root, c, files, sfs);
  const { skipped } = installKeymaps(join(root, "lib/keymaps"), keymaps);
  return { missingModules: missing, keymapsSkipped: skipped };
}

/**
 * The drivers as a squashfs image for INITRD_MODULES_DIR (with the init's
 * e2fsck, INITRD_IMAGE_RUNTIME), and the two that mount it (loop, squashfs)
 * as plain files. Unpacked, the drivers would
 * cost their whole size in RAM until the switch (and a larger initrd to
 * unpack); as an image, a third of it. (What was once measured as pages the
 * kernel "does not give back" after the switch were free pages on the
 * CPU's own list, which MemAvailable does not count: see boot-tunables.ts.)
 */
function initrdDriverImage(
  root: string,
  c: Components,
  files: readonly string[],
  sfs: { compression: Compression; epoch: number },
): void {
  const tree = `${root}.modules`;
  rmSync(tree, { recursive: true, force: true });
  installModules(c.kernel.root, c.kernel.release, files, tree);
  const plain = join(root, INITRD_PLAIN_MODULES.slice(1));
  mkdirSync(plain, { recursive: true });
  for (const f of files.filter((f) => /\/(loop|squashfs)\.ko$/.test(f)))
    copyInto(join(tree, "lib/modules", c.kernel.release, f), join(plain, basename(f)), 0o644);
  const tools = join(tree, INITRD_IMAGE_RUNTIME.slice(1), "bin");
  for (const [name, file] of [...c.initrdTools].sort()) copyInto(file, join(tools, name), 0o755);
  // xz would cost the boot seconds under emulation (every driver is read through it): zstd reads several times faster.
  const compression: Compression = sfs.compression.comp === "xz" ? { comp: "zstd", level: 19 } : sfs.compression;
  mksquashfs(join(tree, "lib/modules"), join(root, INITRD_MODULES_IMAGE.slice(1)), { ...sfs, compression });
  dirs(root, [INITRD_MODULES_DIR.slice(1)]);
  rmSync(tree, { recursive: true, force: true });
}

const INITTAB = `# busybox init: the system start script, a root shell on the console.
::sysinit:/etc/rc.d/rc.sysinit
::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/etc/rc.d/rc.shutdown
`;

const RC_SYSINIT = `#!/bin/sh
# Start the tiny system on the stack the ramstack init left.
# The init hands over /proc, /sys and /dev already mounted.
[ -e /proc/mounts ] || mount -t proc proc /proc
[ -d /sys/kernel ] || mount -t sysfs sysfs /sys
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=755 tmpfs /run
hostname -F /etc/hostname
. /etc/rc.d/PUPSTATE 2>/dev/null
# Periodic saves when /etc/eventmanager sets RAMSAVEINTERVAL (flash mode and archive saves),
# in a session of their own: the console's hang-up at the end of this script must not stop them.
RAMSAVEINTERVAL=0
. /etc/eventmanager 2>/dev/null
case "$PUPMODE:$RAMSAVEINTERVAL" in
  13:0|66:0|13:|66:) ;;
  13:*|66:*) setsid /usr/bin/ramstack save periodic </dev/null >>/var/log/ramstack-save.log 2>&1 & ;;
esac
echo "ramstack: system up (PUPMODE $PUPMODE) at $(cut -d' ' -f1 /proc/uptime) s"
`;

const RC_SHUTDOWN = `#!/bin/sh
# Stop the system: save the session (flash mode asks first; see
# /etc/eventmanager), then flush what is written.
# The console's login shells would read the answers: pause them (init kills them next).
for p in $(pidof sh ash); do [ "$p" = $$ ] || kill -STOP "$p" 2>/dev/null; done
/usr/bin/ramstack save shutdown
sync
`;

/** Puppy's settings for saving in flash mode (PUPMODE 13). */
const EVENTMANAGER = `# Saving the session in flash mode (PUPMODE 13).
# ASKTOSAVE=false saves at shutdown without asking; RAMSAVEINTERVAL (minutes)
# > 0 also saves without asking. SAVE_TIMEOUT: seconds a question waits.
ASKTOSAVE=true
RAMSAVEINTERVAL=0
SAVE_TIMEOUT=60
`;

const PROFILE = `export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
PS1='ramstack# '
`;

/** The tiny profile: a busybox userland and the ramstack command. */
export function tinyRootfs(root: string, c: Components, cli: Bundle, specs: string): void {
  installBusybox(root, c.busybox, true);
  dirs(root, [
    "dev",
    "proc",
    "sys",
    "run",
    "mnt",
    "media",
    "home",
    "initrd",
    "lib/modules",
    "var/log",
    "etc/rc.d",
    "usr/lib/ramstack",
  ]);
  dirs(root, ["tmp", "var/tmp"], 0o1777);
  dirs(root, ["root"], 0o700);
  write(root, "etc/inittab", INITTAB);
  write(root, "etc/rc.d/rc.sysinit", RC_SYSINIT, 0o755);
  write(root, "etc/rc.d/rc.shutdown", RC_SHUTDOWN, 0o755);
  write(root, "etc/eventmanager", EVENTMANAGER);
  write(root, "etc/profile", PROFILE);
  write(root, "etc/hostname", "ramstack\n");
  write(root, "etc/hosts", "127.0.0.1 localhost ramstack\n");
  write(root, "etc/passwd", "root::0:0:root:/root:/bin/sh\n");
  write(root, "etc/group", "root:x:0:\n");
  write(root, "etc/fstab", "# the ramstack init mounts everything\n");
  write(root, "etc/DISTRO_SPECS", specs);
  write(root, "usr/lib/ramstack/ramstack.qbc", cli.bytecode);
  systemRuntimeTree(root, c);
  write(
    root,
    "usr/bin/ramstack",
    `#!/bin/sh\nexec ${SYSTEM_RUNTIME}/bin/${RUNTIME_JS} /usr/lib/ramstack/ramstack.qbc "$@"\n`,
    0o755,
  );
}

/** zdrv: every module of the kernel, and the free firmware unless an fdrv holds it. */
export function zdrvTree(root: string, c: Components, firmware = true): void {
  const mods = join(root, "lib/modules");
  mkdirSync(mods, { recursive: true });
  // Hard links: the tree is only read by mksquashfs.
  if (ARCH[c.arch].zdrvModules === "all")
    run("cp", ["-al", join(c.kernel.root, "lib/modules", c.kernel.release), mods]);
  else boardZdrvModules(c, root);
  if (firmware && c.firmware) run("cp", ["-al", c.firmware.dir, join(root, "lib/firmware")]);
  // The boards' own firmware stays in zdrv, beside the modules that load it.
  if (c.boardFirmware) run("cp", ["-a", `${c.boardFirmware.dir}/.`, join(root, "lib/firmware")]);
  for (const d of readdirSync(root)) chmodSync(join(root, d), 0o755);
}

/**
 * zdrv's modules for the boards of C's arch (the device trees the kernel
 * package carries for them): hard links, depmod'ed, and the list of the
 * modules left out.
 */
function boardZdrvModules(c: Components, root: string): void {
  const compatibles = new Set([
    ...[...piDeviceTrees(c.kernel).values()].flatMap((f) => dtbCompatibles(readFileSync(f))),
    ...VIRT_COMPATIBLES,
  ]);
  const { keep, leftOut } = boardModules(readModuleTable(c.kernel.root, c.kernel.release), compatibles);
  installModules(c.kernel.root, c.kernel.release, keep, root, true);
  write(
    root,
    `lib/modules/${c.kernel.release}/${LEFT_OUT_LIST}`,
    [
      `# ramstack: the kernel's modules that this system's zdrv leaves out (${leftOut.length} of ${keep.length + leftOut.length}):`,
      "# drivers for hardware found only on other machines (other SoCs, vendors' PCI cards, ACPI),",
      "# their extensions and libraries, data-centre features (cluster file systems, RDMA, storage targets)",
      "# and the kernel's self-tests (src/build/zdrv-select.ts).",
      ...leftOut,
      "",
    ].join("\n"),
  );
}

/** An optional layer as planned: its recipe and the Debian packages it will hold. */
export interface PlannedLayer {
  recipe: LayerRecipe;
  packages: FetchedDeb[];
}

/**
 * The packages of each optional layer: each takes its packages' dependency
 * closure, less what a layer below it already holds.
 */
export function planLayers(profile: ProfileDef, arch: Arch, log: (s: string) => void): Map<ExtraLayer, PlannedLayer> {
  const taken = new Set<string>();
  const planned = new Map<ExtraLayer, PlannedLayer>();
  const host = hostDebArch();
  for (const kind of [...EXTRA_LAYERS].reverse()) {
    const recipe = profile.layers[kind];
    if (!recipe) continue;
    const debs = (recipe.debs ?? []).map((d) => debFor(d, arch, host));
    const names = debs.length ? debClosure(debs, DEB_NEVER).filter((n) => !taken.has(n)) : [];
    for (const n of names) taken.add(n);
    planned.set(kind, { recipe, packages: names.map((n) => fetchDeb(n, log)) });
  }
  return planned;
}

/** Fill an optional layer: its packages' files (less docs), firmware and files. */
export function layerTree(root: string, layer: PlannedLayer, c: Components, log: (s: string) => void): void {
  for (const deb of layer.packages) {
    const dir = extractDeb(deb);
    for (const e of readdirSync(dir)) if (e !== ".done") run("cp", ["-al", "--remove-destination", join(dir, e), root]);
  }
  for (const x of DEB_EXCLUDES) rmSync(join(root, x), { recursive: true, force: true });
  if (layer.recipe.firmware) {
    mkdirSync(join(root, "lib"), { recursive: true, mode: 0o755 });
    if (c.firmware) run("cp", ["-al", c.firmware.dir, join(root, "lib/firmware")]);
    else log("no firmware package: the fdrv is empty");
  }
  // Unlink first: a path may be a hard link into the package cache.
  for (const [path, content] of Object.entries(layer.recipe.files ?? {})) {
    rmSync(join(root, path), { force: true });
    write(root, path, content);
  }
  chmodSync(root, 0o755);
}
