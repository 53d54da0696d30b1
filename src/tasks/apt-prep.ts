// What a task needs of apt before its packages are installed, as shell run
// in the system (the build's chroot or the running system): the archive
// areas besides main it takes packages from, and the empty stand-ins for the
// packages it leaves out. One script for both places, so a layer and a
// run-time add install the same thing.

import type { TaskDef } from "./table.js";

/** The apt source file a task's extra archive areas are listed in. */
export const sourcesFileOf = (name: string): string => `etc/apt/sources.list.d/ramstack-${name}.list`;

/** The stand-in package that provides a left-out PACKAGE. */
export const standInOf = (pkg: string): string => `ramstack-without-${pkg}`;

/**
 * Before apt-get update: the system's own Debian sources again, for the
 * task's other archive areas (each "deb URI SUITE main..." line, with the
 * areas in place of its own).
 */
export function sourcesScript(name: string, t: TaskDef): string {
  if (!t.components?.length) return "";
  const areas = t.components.join(" ");
  return (
    `sed -n -E 's/^(deb +(\\[[^]]*\\] +)?[^ ]+ +[^ ]+) +.*\\bmain\\b.*$/\\1 ${areas}/p' /etc/apt/sources.list > /${sourcesFileOf(name)}\n` +
    `[ -s /${sourcesFileOf(name)} ] || { echo "no 'deb ... main' line in /etc/apt/sources.list to add ${areas} to" >&2; exit 1; }`
  );
}

/**
 * After apt-get update, before the install: each left-out package's stand-in,
 * made with dpkg-deb and installed with dpkg. It provides the package at the
 * version apt has (a dependency may ask for a version), and conflicts with
 * it, so that installing the real package replaces it.
 */
export function standInScript(name: string, t: TaskDef): string {
  return (t.leaveOut ?? [])
    .map(({ name: pkg, why }) => {
      const dir = `/tmp/${standInOf(pkg)}`;
      return [
        `v=$(apt-cache show --no-all-versions ${pkg} | sed -n 's/^Version: //p' | head -n 1)`,
        `[ -n "$v" ] || { echo "apt knows no package ${pkg} to stand in for" >&2; exit 1; }`,
        `rm -rf ${dir} && mkdir -p ${dir}/DEBIAN`,
        `cat > ${dir}/DEBIAN/control <<EOF`,
        `Package: ${standInOf(pkg)}`,
        `Version: 1`,
        `Architecture: all`,
        `Maintainer: ramstack <root@localhost>`,
        `Section: misc`,
        `Priority: optional`,
        `Provides: ${pkg} (= $v)`,
        `Conflicts: ${pkg}`,
        `Description: stands in for ${pkg}, left out by ramstack's ${name} task`,
        ` ${why}.`,
        ` 'apt-get install ${pkg}' brings the real package and removes this one.`,
        `EOF`,
        `dpkg-deb --root-owner-group -b ${dir} ${dir}.deb >/dev/null`,
        `dpkg -i ${dir}.deb >/dev/null`,
        `rm -rf ${dir} ${dir}.deb`,
      ].join("\n");
    })
    .join("\n");
}
