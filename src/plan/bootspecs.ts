// BOOT_SPECS in the initrd: stored overrides of the boot parameters. Puppy
// sources it as shell after the cmdline mapping; here it is read as data and
// its upper-case variables replace the matching parameters.

import type { BootParams } from "./params.js";
import { normalizeSubdir, PMEDIA_VALUES } from "./params.js";
import { parseShellVars } from "./shellvars.js";
import type { DecisionLog } from "./log.js";

export function applyBootSpecs(text: string, p: BootParams, log: DecisionLog): { tz: string | null } {
  const { vars, skipped } = parseShellVars(text);
  for (const s of skipped) log.warn("boot_specs", `line ${s.line} skipped (${s.reason}): ${s.text.trim()}`);
  let tz: string | null = null;
  const set = (what: string, value: string): void => log.info("boot_specs", `${what}=${value} (overrides the cmdline)`);
  for (const [name, value] of vars) {
    switch (name) {
      case "PDRV":
      case "PUPSFS":
        p.pupsfs = value || null;
        p.pupsfsFrom = "BOOT_SPECS";
        set("pupsfs", value);
        break;
      case "PSAVE":
      case "ZDRV":
      case "FDRV":
      case "ADRV":
      case "YDRV":
      case "BDRV": {
        const key = name.toLowerCase() as "psave" | "zdrv" | "fdrv" | "adrv" | "ydrv" | "bdrv";
        p[key] = value || null;
        set(key, value);
        break;
      }
      case "PSUBDIR":
        p.psubdir = normalizeSubdir(value);
        set("psubdir", p.psubdir);
        break;
      case "PMEDIA":
        if (value === "" || (PMEDIA_VALUES as readonly string[]).includes(value)) {
          p.pmedia = value;
          set("pmedia", value);
        } else log.warn("boot_specs", `PMEDIA=${value} is not a known media type; ignored`);
        break;
      case "PIMOD":
        p.pimod = value.split(",").map((s) => s.trim()).filter(Boolean);
        set("pimod", value);
        break;
      case "PSAVEMARK":
        if (/^\d+$/.test(value) && Number(value) > 0) {
          p.psavemark = Number(value);
          set("psavemark", value);
        } else log.warn("boot_specs", `PSAVEMARK=${value} is not a partition number; ignored`);
        break;
      case "PKEYS":
        p.pkeys = value || null;
        set("pkeys", value);
        break;
      case "PLANG":
        p.plang = value || null;
        set("plang", value);
        break;
      case "WAITDEV":
        if (/^\d+$/.test(value)) {
          p.waitdev = Number(value);
          set("waitdev", value);
        } else log.warn("boot_specs", `WAITDEV=${value} is not a number; ignored`);
        break;
      case "PUNIONFS":
        if (value === "aufs" || value === "overlay") {
          p.punionfs = value;
          set("punionfs", value);
        } else log.warn("boot_specs", `PUNIONFS=${value} ignored: use aufs or overlay`);
        break;
      case "TZ":
        tz = value;
        log.info("boot_specs", `TZ=${value}`);
        break;
      default:
        log.warn("boot_specs", `${name} is not a setting this init reads; ignored`);
    }
  }
  return { tz };
}
