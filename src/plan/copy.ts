// Copy-to-RAM decisions (copy_onepupdrv), with Puppy's weaknesses fixed:
// pfix=copy is honoured whenever a file fits, whatever the RAM size, and a
// layer that does not fit no longer stops the smaller ones after it.

export interface CopyCandidate {
  key: string;
  sizeMiB: number;
  /** Already in RAM: an SFS inside the initrd is moved, not read from disk. */
  inInitrd: boolean;
}

export type CopyMode = "auto" | "yes" | "no";

/** Automatic copy leaves at least this much of the tmpfs free. */
export const AUTO_COPY_SLACK_MIB = 64;
/** With this much RAM or less, copying is only done when asked for (pfix=copy). */
export const AUTO_COPY_MIN_RAM_MIB = 1024;

export interface CopyDecision {
  key: string;
  ram: boolean;
  reason: string;
}

/** The tmpfs that holds copies gets the kernel default: half of the RAM. */
export function tmpfsMiB(ramMiB: number): number {
  return Math.floor(ramMiB / 2);
}

/** What the running system needs beyond the copies: a copy never takes the last of the RAM. */
export const RUNNING_RESERVE_MIB = 64;

/**
 * availableMiB (MemAvailable) bounds the copies too: the tmpfs may grow to
 * half the RAM, but what the initrd itself holds is already taken, and a
 * tmpfs filled past the free memory ends in the OOM killer, not ENOSPC.
 */
export function decideCopies(
  ramMiB: number,
  mode: CopyMode,
  candidates: readonly CopyCandidate[],
  availableMiB?: number,
): CopyDecision[] {
  let free = tmpfsMiB(ramMiB);
  if (availableMiB !== undefined) free = Math.min(free, availableMiB - RUNNING_RESERVE_MIB);
  const out: CopyDecision[] = [];
  for (const c of candidates) {
    const need = Math.ceil(c.sizeMiB);
    if (c.inInitrd) {
      free -= need;
      out.push({ key: c.key, ram: true, reason: "in the initrd: already in RAM" });
      continue;
    }
    if (mode === "no") {
      out.push({ key: c.key, ram: false, reason: "pfix=nocopy" });
      continue;
    }
    if (mode === "auto" && ramMiB <= AUTO_COPY_MIN_RAM_MIB) {
      out.push({
        key: c.key,
        ram: false,
        reason: `RAM is ${ramMiB} MiB, not more than ${AUTO_COPY_MIN_RAM_MIB}: copy only with pfix=copy`,
      });
      continue;
    }
    const slack = mode === "auto" ? AUTO_COPY_SLACK_MIB : 0;
    if (need + slack > free) {
      out.push({
        key: c.key,
        ram: false,
        reason: `${need} MiB${slack ? ` + ${slack} MiB kept free` : ""} does not fit in the ${Math.max(free, 0)} MiB left in RAM`,
      });
      continue;
    }
    free -= need;
    out.push({
      key: c.key,
      ram: true,
      reason: `${need} MiB copied (${mode === "yes" ? "asked for" : "automatic"}), ${free} MiB left`,
    });
  }
  return out;
}
