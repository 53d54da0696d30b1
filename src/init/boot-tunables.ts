// Kernel settings that make the boot faster or leaner, set by the stub as
// its first act and put back by the init just before it execs the system's
// init: the running system gets the kernel's own settings. The stub writes
// each old value to BOOT_TUNABLES_SAVED ("PATH VALUE" per line); a setting
// this kernel lacks is skipped.

import type { Port } from "../port/port.js";

export interface BootTunable {
  path: string;
  value: string;
}

export const BOOT_TUNABLES: readonly BootTunable[] = [
  // The smallest per-CPU free list: the pages the boot frees (the initramfs,
  // 15 MiB, at the switch) go back to the free lists MemFree and
  // MemAvailable count. On the kernel's own list (about 54 MiB per CPU with
  // 1 GiB) they are free but counted as used, and only that CPU takes them.
  { path: "/proc/sys/vm/percpu_pagelist_high_fraction", value: "1000000000" },
];

export const BOOT_TUNABLES_SAVED = "/tmp/boot-tunables";

/**
 * The stub's lines that save each setting's value and set the boot's, with
 * shell builtins only (no process is started). read's status is not used: a
 * sysctl file ends without a newline for a reader taking a byte at a time.
 */
export function setBootTunablesSh(): string {
  return BOOT_TUNABLES.map(
    ({ path, value }) =>
      `v=; read -r v < ${path} 2>/dev/null; [ -n "$v" ] && echo "${path} $v" >> ${BOOT_TUNABLES_SAVED} && echo ${value} 2>/dev/null > ${path}`,
  ).join("\n");
}

/** The saved values (read before the switch deletes the initramfs's /tmp from view). */
export function savedBootTunables(port: Port): BootTunable[] {
  const text = port.readText(BOOT_TUNABLES_SAVED) ?? "";
  return text
    .split("\n")
    .map((l) => /^(\S+) (\S+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && BOOT_TUNABLES.some((t) => t.path === m[1]))
    .map((m) => ({ path: m[1]!, value: m[2]! }));
}

/** Put the saved values back; the settings that could not be written. */
export function restoreBootTunables(port: Port, saved: readonly BootTunable[]): string[] {
  const failed: string[] = [];
  for (const t of saved) {
    try {
      port.writeText(t.path, `${t.value}\n`);
    } catch {
      failed.push(t.path);
    }
  }
  return failed;
}
