// Kernel settings that make the boot faster or leaner, set by the init as
// its first act and put back just before it execs the system's init: the
// running system gets the kernel's own settings. Each old value is kept in
// BOOT_TUNABLES_SAVED ("PATH VALUE" per line); a setting this kernel lacks
// is skipped.

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
 * Save each setting's value (the first write to BOOT_TUNABLES_SAVED) and set
 * the boot's. A setting this kernel lacks, or one that cannot be written,
 * is skipped: the boot is only slower or leaner without it.
 */
export function setBootTunables(port: Port): void {
  for (const { path, value } of BOOT_TUNABLES) {
    const old = port.readText(path)?.trim();
    if (!old) continue;
    try {
      // Saved first: a value set is always put back (putting back one that was not set does no harm).
      port.appendText(BOOT_TUNABLES_SAVED, `${path} ${old}\n`);
      port.writeText(path, `${value}\n`);
    } catch {
      // Left as the kernel has it.
    }
  }
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
