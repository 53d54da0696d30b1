// BOOT_SPECS in the initrd: stored overrides of the boot parameters. Puppy
// sources it as shell after the cmdline mapping; here it is read as data and
// each upper-case variable goes through its parameter's own reader (the
// table in params.ts), with the same checks and limits as on the cmdline.

import { clonePlain } from "../lib/clone.js";
import type { DecisionLog } from "./log.js";
import type { BootParams } from "./params.js";
import { PARAMS } from "./params.js";
import { parseShellVars } from "./shellvars.js";

/** Kinds whose empty value sets the parameter back to its default (PSAVE='' as when sourced); numbers need digits. */
const EMPTY_RESETS = new Set(["text", "spec", "list"]);

export function applyBootSpecs(
  text: string,
  given: BootParams,
  log: DecisionLog,
): { params: BootParams; tz: string | null } {
  const p: BootParams = { ...given, pfix: { ...given.pfix } };
  const fields = p as unknown as Record<string, unknown>;
  const { vars, skipped } = parseShellVars(text);
  for (const s of skipped) log.warn("boot_specs", `line ${s.line} skipped (${s.reason}): ${s.text.trim()}`);
  let tz: string | null = null;
  for (const [name, raw] of vars) {
    if (name === "TZ") {
      tz = raw;
      log.info("boot_specs", `TZ=${raw}`);
      continue;
    }
    const def = PARAMS.find((d) => d.setting?.bootSpec === name);
    if (!def) {
      log.warn("boot_specs", `${name} is not a setting this init reads; ignored`);
      continue;
    }
    const s = def.setting!;
    const v = raw.trim();
    const value =
      v === "" && EMPTY_RESETS.has(def.kind)
        ? clonePlain(s.default)
        : s.read(v, name, fields[s.field] as never, (w) => log.warn("boot_specs", w));
    if (value === undefined) continue;
    fields[s.field] = value;
    if (s.field === "pupsfs") p.pupsfsFrom = "BOOT_SPECS";
    const shown = typeof value === "string" || typeof value === "number" ? String(value) : v;
    log.info("boot_specs", `${s.field}=${shown} (overrides the cmdline)`);
  }
  return { params: p, tz };
}
