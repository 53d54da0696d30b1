// DISTRO_SPECS: the distro's name, version, file prefix and SFS names.

import { parseShellVars } from "./shellvars.js";

export type SfsKind = "puppy" | "zdrv" | "fdrv" | "adrv" | "ydrv" | "bdrv" | "devx" | "nlsx" | "docx" | "kbuild";

export interface DistroInfo {
  name: string;
  version: string;
  prefix: string;
  woofVersion: string;
  /** Default file name of each SFS. */
  sfs: Record<SfsKind, string>;
  vars: Map<string, string>;
}

export function parseDistroSpecs(
  text: string,
  kernelRelease?: string,
): { distro?: DistroInfo; errors: string[]; notes: string[] } {
  const { vars, skipped } = parseShellVars(text, kernelRelease !== undefined ? { kernelRelease } : {});
  const notes = skipped.map((s) => `DISTRO_SPECS line ${s.line} skipped (${s.reason}): ${s.text.trim()}`);
  const prefix = vars.get("DISTRO_FILE_PREFIX") ?? "";
  const version = vars.get("DISTRO_VERSION") ?? "";
  const errors: string[] = [];
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(prefix))
    errors.push(
      prefix === ""
        ? "DISTRO_SPECS has no DISTRO_FILE_PREFIX"
        : `DISTRO_SPECS has an unusable DISTRO_FILE_PREFIX '${prefix}'`,
    );
  if (version === "") errors.push("DISTRO_SPECS has no DISTRO_VERSION");
  if (errors.length) return { errors, notes };
  const tail = `${prefix}_${version}.sfs`;
  const pick = (key: string, fallback: string): string => {
    const v = vars.get(key);
    return v !== undefined && v !== "" && !v.includes("/") ? v : fallback;
  };
  const sfs: Record<SfsKind, string> = {
    puppy: pick("DISTRO_PUPPYSFS", `puppy_${tail}`),
    zdrv: pick("DISTRO_ZDRVSFS", `zdrv_${tail}`),
    fdrv: pick("DISTRO_FDRVSFS", `fdrv_${tail}`),
    adrv: pick("DISTRO_ADRVSFS", `adrv_${tail}`),
    ydrv: pick("DISTRO_YDRVSFS", `ydrv_${tail}`),
    bdrv: pick("DISTRO_BDRVSFS", `bdrv_${tail}`),
    devx: `devx_${tail}`,
    nlsx: `nlsx_${tail}`,
    docx: `docx_${tail}`,
    kbuild: `kbuild-${kernelRelease ?? "unknown"}.sfs`,
  };
  return {
    distro: {
      name: vars.get("DISTRO_NAME") ?? prefix,
      version,
      prefix,
      woofVersion: vars.get("WOOF_VERSION") ?? "",
      sfs,
      vars,
    },
    errors,
    notes,
  };
}
