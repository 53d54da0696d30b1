// Was the save made by this distro version? (validate_pupsave_upgrade)

import { parseShellVars } from "./shellvars.js";

export type UpgradeVerdict =
  | { status: "same"; reason: string }
  | { status: "new"; reason: string }
  | { status: "auto"; reason: string }
  | { status: "ask"; reason: string };

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

/** The check from the save layer's copy of DISTRO_SPECS, as read (undefined: it has none). */
export function checkSavedSpecs(current: ReadonlyMap<string, string>, savedText: string | undefined): UpgradeVerdict {
  return checkUpgrade(current, savedText === undefined ? undefined : parseShellVars(savedText).vars);
}

export function checkUpgrade(
  current: ReadonlyMap<string, string>,
  saved: ReadonlyMap<string, string> | undefined,
): UpgradeVerdict {
  if (!saved) return { status: "new", reason: "the save has no initrd/DISTRO_SPECS: first boot with it" };
  const get = (m: ReadonlyMap<string, string>, k: string): string => m.get(k) ?? "";
  const [name, oldName] = [get(current, "DISTRO_NAME"), get(saved, "DISTRO_NAME")];
  if (name !== oldName)
    return { status: "ask", reason: `the save was made by ${oldName || "another distro"}, this is ${name}` };
  const [ver, oldVer] = [get(current, "DISTRO_VERSION"), get(saved, "DISTRO_VERSION")];
  if (ver !== oldVer) {
    const a = SEMVER.exec(ver);
    const b = SEMVER.exec(oldVer);
    if (a && b && a[1] === b[1] && a[2] === b[2] && Number(a[3]) > Number(b[3]))
      return { status: "auto", reason: `patch upgrade ${oldVer} -> ${ver}: accepted without asking` };
    return { status: "ask", reason: `the save was made by version ${oldVer || "unknown"}, this is ${ver}` };
  }
  const [woof, oldWoof] = [get(current, "WOOF_VERSION"), get(saved, "WOOF_VERSION")];
  if (woof !== oldWoof)
    return { status: "ask", reason: `the save was built with WOOF_VERSION ${oldWoof || "unknown"}, this is ${woof}` };
  return { status: "same", reason: `the save was made by ${name} ${ver}` };
}
