// The init's first steps as PID 1, before it looks for the frugal install:
// the kernel's filesystems, the boot's kernel settings, the initrd's driver
// image, and (with more than one CPU) a head start for the filesystems'
// drivers. The engine, as /init, has only checked that the initrd was
// unpacked whole: each of these as a busybox command was a process start,
// 25-35 ms of an emulated boot.

import { HEAD_START_FILE, INITRD_MODULES_DIR, INITRD_MODULES_IMAGE, INITRD_PLAIN_MODULES } from "../port/commands.js";
import type { Port } from "../port/port.js";
import { setBootTunables } from "./boot-tunables.js";
import type { BootLog } from "./bootlog.js";

const KERNEL_FILESYSTEMS = [
  { fstype: "proc", source: "proc", target: "/proc" },
  { fstype: "sysfs", source: "sysfs", target: "/sys" },
  { fstype: "devtmpfs", source: "devtmpfs", target: "/dev" },
] as const;

/** How many CPUs are online ("0-3,5" in /sys); 1 when it cannot tell. */
export function onlineCpus(port: Port): number {
  const text = port.readText("/sys/devices/system/cpu/online")?.trim() ?? "";
  let n = 0;
  for (const range of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (m) n += (m[2] === undefined ? 0 : Number(m[2]) - Number(m[1])) + 1;
  }
  return Math.max(n, 1);
}

/** A board's device-tree devices' aliases (of:…): only a machine with a device tree has them. */
function deviceTreeAliases(port: Port): string[] {
  if (!port.stat("/proc/device-tree")) return [];
  const dir = "/sys/bus/platform/devices";
  const out: string[] = [];
  for (const d of port.list(dir)) {
    const alias = port.readText(`${dir}/${d}/modalias`)?.trim();
    if (alias?.startsWith("of:")) out.push(alias);
  }
  return out;
}

/**
 * Everything before the boot proper. A step that fails is logged and the
 * boot goes on: without the driver image only the kernel's own drivers are
 * there, which may still reach the disk. Returns the head start's process
 * id (0 when none was started).
 */
export function setUpInitrd(port: Port, log: BootLog): number {
  const mounted = new Set(port.mounts().map((m) => m.target));
  for (const m of KERNEL_FILESYSTEMS) {
    if (mounted.has(m.target)) continue;
    try {
      port.mount(m);
    } catch (e) {
      log.console(`Warning: ${(e as Error).message}`);
    }
  }
  setBootTunables(port);
  if (!port.stat(INITRD_MODULES_IMAGE)) {
    log.console(
      `Warning: the initrd has no driver image (${INITRD_MODULES_IMAGE}): only the kernel's own drivers are there`,
    );
    return 0;
  }
  // The image's two modules (loop, squashfs) are plain files: the image needs them to mount.
  for (const f of port.list(INITRD_PLAIN_MODULES).filter((f) => f.endsWith(".ko"))) {
    try {
      port.insmod(`${INITRD_PLAIN_MODULES}/${f}`);
    } catch (e) {
      log.debug(`insmod: ${(e as Error).message}`);
    }
  }
  try {
    port.mount({
      fstype: "squashfs",
      source: INITRD_MODULES_IMAGE,
      target: INITRD_MODULES_DIR,
      options: ["loop", "ro"],
    });
  } catch (e) {
    log.console(
      `Warning: the initrd's drivers (${INITRD_MODULES_IMAGE}) did not mount: only the kernel's own are there (${(e as Error).message})`,
    );
    return 0;
  }
  return startHeadStart(port, log);
}

/**
 * With more than one CPU, a board's device-tree drivers and the filesystems
 * nearly every boot mounts are loaded by a busybox modprobe in the
 * background while the init goes on: the two overlap. With one CPU there is
 * nothing to overlap with, and the two would only compete for it (and read
 * the driver image side by side): the init loads what it needs itself, when
 * it needs it.
 */
function startHeadStart(port: Port, log: BootLog): number {
  const cpus = onlineCpus(port);
  if (cpus < 2) {
    log.debug("head start: none on one CPU; the init loads each filesystem's modules when it first mounts one");
    return 0;
  }
  const modules = (port.readText(HEAD_START_FILE) ?? "").split(/\s+/).filter(Boolean);
  const names = [...deviceTreeAliases(port), ...modules];
  if (names.length === 0) return 0;
  log.debug(`head start: modprobe -a -q ${names.join(" ")}, in the background on ${cpus} CPUs`);
  try {
    return port.start("/bin/busybox", ["modprobe", "-a", "-q", ...names]);
  } catch (e) {
    log.debug(`head start: ${(e as Error).message}`);
    return 0;
  }
}
