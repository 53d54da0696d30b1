// The system the VM tests boot: one quick build shared by every test file
// (scripts/test.sh makes it first; a test run on its own makes it here, under
// a lock so that parallel files build it once), and fixture disks.

import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readManifest } from "../../src/build/build.js";
import { humongousInitrd } from "../../src/build/cpio.js";
import { shippedRamstack as unpackShipped } from "../../src/build/shipped.js";
import { mksquashfs } from "../../src/build/squashfs.js";
import { parseMounts, unionLowerDirs } from "../../src/plan/layout.js";
import { parseShellVars } from "../../src/plan/shellvars.js";
import { run } from "../../src/sys/exec.js";
import type { FrugalDiskOptions } from "../../src/vm/frugal-disk.js";
import { frugalDisk } from "../../src/vm/frugal-disk.js";
import type { Vm, VmDisk, VmOptions } from "../../src/vm/qemu.js";
import { Vm as VmClass } from "../../src/vm/qemu.js";
import type { Arch } from "../../src/build/arch.js";
import { readImageManifest } from "../../src/build/image.js";
import type { Board } from "../../src/vm/boards.js";
import { BOARDS } from "../../src/vm/boards.js";
import { piCardVm } from "../../src/vm/pi-card.js";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, "../../..");
export const cli = join(repoRoot, "dist/src/cli/main.js");

export const TEST_BUILD = process.env.RAMSTACK_TEST_BUILD ?? join(repoRoot, "out/test");

const built = new Set<string>();

/** Build the test system of a profile once (quick compression). */
export function testBuild(profile = "tiny", arch: Arch = "amd64"): string {
  const out = [TEST_BUILD, profile === "tiny" ? "" : profile, arch === "amd64" ? "" : arch].filter(Boolean).join("-");
  // Checked once per test file: the build cannot change under a running suite.
  if (built.has(out)) return out;
  const lock = `${out}.lock`;
  mkdirSync(dirname(out), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 1200) throw new Error(`${lock} is held for more than 20 minutes`);
      run("sleep", ["1"]);
    }
  }
  try {
    // The debian build carries the task layers (each stacked only with ptask=NAME).
    const tasks = profile === "debian" ? ["--task", "webdev,kodi,retro"] : [];
    const archArgs = arch === "amd64" ? [] : ["--arch", arch];
    const r = run(
      process.execPath,
      [cli, "build", "--fast", "--profile", profile, ...tasks, ...archArgs, "--out", out],
      {
        allowFail: true,
      },
    );
    if (r.status !== 0) throw new Error(`ramstack build failed:\n${r.stderr}`);
  } finally {
    rmdirSync(lock);
  }
  readManifest(out);
  built.add(out);
  return out;
}

const scratchDirs: string[] = [];
process.on("exit", () => {
  for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
});

/** A temporary directory, removed when the test file's process ends. */
export function scratch(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `ramstack-${name}-`));
  scratchDirs.push(d);
  return d;
}

/** An SFS made from a map of path -> content. */
export function makeSfs(path: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "ramstack-sfs-"));
  for (const [p, content] of Object.entries(files)) {
    const full = join(dir, p);
    mkdirSync(dirname(full), { recursive: true });
    // A script (#!) is a program.
    writeFileSync(full, content, { mode: content.startsWith("#!") ? 0o755 : 0o644 });
  }
  mksquashfs(dir, path, { compression: { comp: "gzip" }, epoch: 1767225600 });
  rmSync(dir, { recursive: true, force: true });
  return path;
}

export function bootDisk(o: Partial<FrugalDiskOptions> & { build: string; dir: string }): string {
  return frugalDisk({ psubdir: "", label: "RAMSTACK", fstype: "ext4", table: "mbr", ...o });
}

export interface Boot {
  vm: Vm;
  /** Whether the boot reached the layered system or stopped in the initrd. */
  reached: "system" | "initrd-shell";
}

/**
 * Boot the test build with these disks; the guest's shell is ready when this
 * returns. Unless `stopAllowed`, a boot that stops in the initrd is an error
 * that shows the console.
 */
/** QEMU options for the test build's kernel and initrd with these disks, the console on the serial line. */
export function kernelVm(build: string, disks: VmDisk[], cmdline = "", memMiB = 1024, board: Board = "pc"): VmOptions {
  return {
    board,
    kernel: join(build, "vmlinuz"),
    initrd: join(build, "initrd.gz"),
    append: `console=${BOARDS[board].console} ${cmdline}`.trim(),
    disks,
    memMiB,
  };
}

export async function boot(
  build: string,
  disks: VmDisk[],
  cmdline = "",
  o: BootWaits & {
    memMiB?: number;
    stopAllowed?: boolean;
    initrd?: string;
    net?: VmOptions["net"];
    display?: boolean;
    sound?: VmOptions["sound"];
    cpu?: string;
    board?: Board;
  } = {},
): Promise<Boot> {
  const vm = {
    ...kernelVm(build, disks, cmdline, o.memMiB, o.board),
    ...(o.net ? { net: o.net } : {}),
    ...(o.display ? { display: true } : {}),
    ...(o.sound ? { sound: o.sound } : {}),
    ...(o.cpu ? { cpu: o.cpu } : {}),
  };
  return bootVm(o.initrd ? { ...vm, initrd: o.initrd } : vm, o);
}

/** How long a boot may take to reach the system, and its console's shell to answer (a debian system needs longer). */
export interface BootWaits {
  upWithinMs?: number;
  shellWithinMs?: number;
}

/** The debian profile's waits: its rc scripts take longer than the tiny one's under emulation. */
export const DEBIAN_BOOT: BootWaits = { upWithinMs: 300000, shellWithinMs: 90000 };

/** The build's initrd with files added at its root (a second, concatenated archive), as a remastered initrd would hold them. */
export function initrdWith(build: string, dir: string, files: Record<string, string>): string {
  const stage = mkdtempSync(join(dir, "initrd-files-"));
  const paths = Object.entries(files).map(([name, text]) => {
    writeFileSync(join(stage, name), text);
    return join(stage, name);
  });
  const out = join(dir, "initrd.gz");
  humongousInitrd(join(build, "initrd.gz"), paths, out, 1767225600);
  return out;
}

/** Boot a disk image through its firmware and GRUB menu (written with --console serial). */
export async function bootImage(
  image: string,
  firmware: "bios" | "uefi",
  bus: VmDisk["bus"] = "virtio",
): Promise<Boot> {
  return bootVm({ firmware, disks: [{ file: image, bus }], memMiB: 1024 }, {});
}

/** Boot a Raspberry Pi's SD card image (ramstack image --board rpi3 --console serial) on QEMU's raspi3b. */
export async function bootPiCard(image: string, waits: BootWaits = {}, cardMiB?: number): Promise<Boot> {
  const m = readImageManifest(image);
  if (!m?.board) throw new Error(`${image} is not a Raspberry Pi card image`);
  return bootVm(
    piCardVm(image, m, () => {}, cardMiB),
    { upWithinMs: 300000, shellWithinMs: 90000, ...waits },
  );
}

async function bootVm(opts: VmOptions, o: BootWaits & { stopAllowed?: boolean }): Promise<Boot> {
  const vm = VmClass.start(opts);
  try {
    const m = await vm.waitFor(/ramstack: system up|The boot cannot go on/, o.upWithinMs ?? 240000);
    await vm.shellReady(o.shellWithinMs ?? 60000);
    const reached = m[0].startsWith("ramstack") ? "system" : "initrd-shell";
    if (reached !== "system" && !o.stopAllowed) throw new Error(`the boot stopped in the initrd:\n${vm.tail(60)}`);
    return { vm, reached };
  } catch (e) {
    await vm.kill();
    throw e;
  }
}

/** Mount points in the guest (the init's own /proc/mounts parser): target -> { source, fstype, options }; the last mount wins. */
export async function guestMounts(vm: Vm): Promise<Map<string, { source: string; fstype: string; options: string }>> {
  return new Map(
    parseMounts(await vm.check("cat /proc/mounts")).map((m) => [
      m.target,
      { source: m.source, fstype: m.fstype, options: m.options },
    ]),
  );
}

/** The lowerdir list of the root overlay, top first. */
export function lowerDirs(options: string): string[] {
  return unionLowerDirs([{ source: "", target: "/", fstype: "overlay", options }]);
}

/** A shell-variable file in the guest (PUPSTATE, BOOTCONFIG), read with the saver's own parser. */
export async function guestVars(vm: Vm, file: string): Promise<Record<string, string>> {
  return Object.fromEntries(parseShellVars(await vm.check(`cat ${file}`)).vars);
}

/** A directory tree from a map of path -> content ("/" at the end: an empty directory). */
export function makeTree(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [p, content] of Object.entries(files)) {
    const full = join(dir, p);
    if (p.endsWith("/")) {
      mkdirSync(full, { recursive: true });
      continue;
    }
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}

/** An ext2/3/4 save file holding these files (e.g. upper/root/x). */
export function makeSaveFile(path: string, files: Record<string, string>, fstype = "ext4", sizeMiB = 32): string {
  const tree = makeTree(`${path}.tree`, files);
  try {
    run("mke2fs", ["-q", "-F", "-t", fstype, "-E", "root_owner=0:0", "-d", tree, path, `${sizeMiB}M`]);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
  return path;
}

/** Wait for the guest to power itself off (QEMU exits). */
export async function waitExit(vm: Vm, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (vm.running) {
    if (Date.now() > end) throw new Error(`the guest did not power off in ${ms / 1000} s:\n${vm.tail(30)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The running system's ramstack exactly as the test build ships it (unpacked once per test file): [engine, bytecode]. */
export function shippedRamstack(): string[] {
  return unpackShipped(testBuild(), scratch("shipped"));
}
