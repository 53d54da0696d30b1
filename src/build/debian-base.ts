// The debian profile's base: a Debian bookworm system made by mmdebstrap,
// which runs the maintainer scripts (users and groups, alternatives,
// ldconfig, tzdata are right), with ramstack's integration written into it
// and registered with update-rc.d, so that insserv orders the boot and the
// shutdown. The tree is kept in the cache: it changes only when the recipe
// below, this module or apt's package lists change.

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  chmodSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { lineSplitter, run, runStreaming } from "../sys/exec.js";
import type { ProgressOut } from "../lib/progress.js";
import { progress } from "../lib/progress.js";
import { sha256 } from "../sys/hash.js";
import type { Arch } from "./arch.js";
import { ARCH } from "./arch.js";
import { aptState, cacheDir, hostDebArch } from "./cache.js";
import { DEB_EXCLUDES } from "./profiles.js";

export const DEBIAN_SUITE = "bookworm";

/** Where mmdebstrap fetches from (RAMSTACK_DEBIAN_MIRROR replaces the first). */
export function debianSources(): string[] {
  const mirror = process.env.RAMSTACK_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
  return [
    `deb ${mirror} ${DEBIAN_SUITE} main`,
    `deb ${mirror} ${DEBIAN_SUITE}-updates main`,
    `deb http://deb.debian.org/debian-security ${DEBIAN_SUITE}-security main`,
  ];
}

/**
 * On top of mmdebstrap's "apt" variant (the Essential packages, apt and
 * dpkg). sysvinit: one small PID 1 and shell scripts whose order insserv
 * computes from their headers, so the shutdown save is one script placed
 * before sendsigs. No udev (its hardware database alone is ~10 MiB):
 * ramstack-hw loads drivers. busybox's syslogd keeps the log in a RAM ring.
 */
export const DEBIAN_PACKAGES = [
  "sysvinit-core",
  "kmod",
  "ifupdown",
  "udhcpc",
  "busybox-syslogd",
  "passwd",
  "adduser",
  "procps",
  "netbase",
  // the saver's mke2fs (save files); e2fsck comes with the init's runtime
  "e2fsprogs",
];

export interface SystemFile {
  text: string;
  mode: number;
}

/** FILES (path under ROOT -> text and mode) written under ROOT, directories made as needed. */
export function writeSystemFiles(root: string, files: Readonly<Record<string, SystemFile>>): void {
  for (const [path, f] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, f.text);
    chmodSync(full, f.mode);
  }
}

/**
 * The gettys come before the runlevels' lines: init starts the entries of a
 * runlevel in the table's order and stops at a "wait" one until it ends, so
 * the console's login starts as soon as rc.sysinit is done, and Debian's
 * rcS and the runlevel's scripts (/usr/lib/ramstack/rc) go on beside it.
 */
const inittab = (serials: readonly string[]): string => `# sysvinit's table, written by ramstack's debian profile.
id:2:initdefault:
si::sysinit:/etc/rc.d/rc.sysinit
~~:S:wait:/sbin/sulogin --force
# root logs in by itself, as in Puppy: on the serial console when the kernel
# was given one (console=${serials[0]}), and on the first virtual terminal. Listed
# before the runlevels' scripts, so the login does not wait for them.
${serials.map((t, i) => `S${i}:2345:respawn:/usr/lib/ramstack/autologin ${t}`).join("\n")}
1:2345:respawn:/usr/lib/ramstack/autologin tty1
2:23:respawn:/sbin/agetty tty2 linux
l0:0:wait:/etc/init.d/rc 0
l1:1:wait:/usr/lib/ramstack/rc 1
l2:2:wait:/usr/lib/ramstack/rc 2
l3:3:wait:/usr/lib/ramstack/rc 3
l4:4:wait:/usr/lib/ramstack/rc 4
l5:5:wait:/usr/lib/ramstack/rc 5
l6:6:wait:/etc/init.d/rc 6
z6:6:respawn:/sbin/sulogin --force
ca:12345:ctrlaltdel:/sbin/shutdown -t1 -a -r now
`;

/**
 * A getty that logs root in: root's login shell, without login(1). Its PAM
 * stack (lastlog, motd, mail, limits) took ~4 s under emulation; an
 * automatic login asks for nothing, so it has nothing to check. agetty makes
 * the terminal the session's controlling terminal and passes this
 * environment on. The login on the kernel's console gets the CPU first
 * (nice -20, given back by /etc/profile.d/ramstack.sh once the shell has
 * read its profile): on one CPU it would otherwise share it with the rest
 * of the boot.
 */
const AUTOLOGIN = `#!/bin/sh
# root's automatic login on the terminal $1 (inittab).
tty=$1
export HOME=/root USER=root LOGNAME=root SHELL=/bin/bash
read -r consoles < /sys/class/tty/console/active
case $tty in
tty[0-9]*) set -- --noclear "$tty" linux; mine=tty0 ;;
*) set -- --noclear -L "$tty" 115200 vt100; mine=$tty ;;
esac
case " $consoles " in
*" $mine "* | *" $tty "*) renice -n -20 -p $$ >/dev/null 2>&1; export RAMSTACK_RENICE=1 ;;
*)
  # A serial line that is not the kernel's console may have nothing on it:
  # agetty would fail and init respawn it in a loop.
  case $tty in tty[0-9]*) ;; *) exec sleep infinity ;; esac ;;
esac
exec /sbin/agetty --autologin root --skip-login --chdir /root --login-program /bin/bash --login-options -l "$@"
`;

const HOTPLUG = `#!/bin/sh
# busybox uevent runs this for every kernel device event (Debian's kernel has
# no uevent helper): a device that appears later gets its driver.
[ "$ACTION" = add ] && [ -n "$MODALIAS" ] && exec /sbin/modprobe -b -q "$MODALIAS"
exit 0
`;

/**
 * sysvinit's sysinit: what Debian's early rcS scripts (mountkernfs,
 * mountdevsubfs, hostname, the fsck and mount scripts) do, in a few
 * commands; no more than the console's login needs. Under emulation each
 * program started costs ~70 ms and those scripts took ~25 s; on a layered
 * root in RAM they have little to do.
 */
const RC_SYSINIT = `#!/bin/sh
# The debian profile's system start, up to the console's login; the rest
# (Debian's rcS among it) is /usr/lib/ramstack/rc, beside the login.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
# The ramstack init hands over /proc, /sys and /dev mounted.
[ -e /proc/mounts ] || mount -t proc -o nodev,noexec,nosuid proc /proc
[ -d /sys/kernel ] || mount -t sysfs -o nodev,noexec,nosuid sysfs /sys
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
# /run, /dev/pts and /dev/shm in one mount(8): each program costs.
mount -a -T /etc/rc.d/fstab.sysinit
mkdir -p /run/sendsigs.omit.d /run/network/interfaces.d
mkdir -m 1777 /run/lock
: > /run/.tmpfs
read -r host < /etc/hostname && echo "$host" > /proc/sys/kernel/hostname
# Puppy's /mnt/home: the partition that holds the save (PUPSTATE's PUP_HOME),
# for what is kept beside the save rather than in it (the retro task's games).
home=
if [ -r /etc/rc.d/PUPSTATE ]; then
  while IFS= read -r line; do
    case $line in PUP_HOME=*) home=\${line#PUP_HOME=}; home=\${home#\\'}; home=\${home%\\'} ;; esac
  done < /etc/rc.d/PUPSTATE
fi
if [ -n "$home" ] && [ -d "/initrd$home" ]; then
  [ -L /mnt/home ] || [ ! -e /mnt/home ] && ln -sfn "/initrd$home" /mnt/home
elif [ -L /mnt/home ]; then
  rm -f /mnt/home
fi
# apt's package lists and downloaded packages in RAM of their own, never in a
# save (they are large, and apt-get update fetches them again), unless
# /etc/default/ramstack says RAM_APT=no.
RAM_APT=yes
[ -r /etc/default/ramstack ] && . /etc/default/ramstack
if [ "$RAM_APT" = yes ]; then
  mount -a -T /etc/rc.d/fstab.apt
  install -d -o _apt -g root -m 0700 /var/lib/apt/lists/partial /var/cache/apt/archives/partial
fi
`;

/**
 * Runlevels 1 to 5. At boot, the rest of the system's start, beside the
 * console's login: the system log, drivers and DHCP, Debian's rcS (which
 * sysvinit would run before any getty: sysctl, /etc/modules, networking,
 * bootmisc, and whatever packages add) and the runlevel's scripts, whose
 * messages go to the system log rather than over the console's shell.
 * Later runlevel changes run only the runlevel's scripts, as Debian's do.
 */
const RC = `#!/bin/sh
# inittab's runlevels 1-5: at boot, the rest of the start; then Debian's rc.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
mkdir /run/ramstack-booted 2>/dev/null || exec /etc/init.d/rc "$1"
# Logs in RAM: busybox's syslogd keeps them in a ring buffer (logread), with
# the options of /etc/default/busybox-syslogd, and klogd passes it the
# kernel's. (Their init scripts took 4 s under emulation and are disabled.)
SYSLOG_OPTS=-C128
KLOG_OPTS=
[ -r /etc/default/busybox-syslogd ] && . /etc/default/busybox-syslogd
syslogd $SYSLOG_OPTS
klogd $KLOG_OPTS
# Devices that appear later (a USB stick, a card): busybox passes each kernel event to the hotplug script.
setsid busybox uevent /usr/lib/ramstack/hotplug </dev/null >/dev/null 2>&1 &
: > /run/network/interfaces.d/ramstack
# The other devices' drivers and DHCP (~8 s of the boot under emulation),
# at the lowest priority. ifupdown reads the file coldplug writes.
nice -n 19 /usr/lib/ramstack/coldplug </dev/null >/dev/null 2>&1 &
{ /etc/init.d/rcS; /etc/init.d/rc "$1"; } 2>&1 | logger -t boot
`;

const COLDPLUG = `#!/bin/sh
# Drivers for the devices present, from their aliases (there is no udev,
# and the ramstack init loaded only those that reach the disks); then the
# first Ethernet card by DHCP, unless /etc/network/interfaces names it.
# Started by rc.sysinit beside the rest of the boot.
modprobe -a -b -q $(cat /sys/bus/*/devices/*/modalias 2>/dev/null | grep -v '^cpu:') 2>/dev/null
for dev in /sys/class/net/*; do
  i=\${dev##*/}
  read -r type < "$dev/type" 2>/dev/null
  [ "$type" = 1 ] && [ -e "$dev/device" ] && [ ! -d "$dev/wireless" ] || continue
  if grep -qs "^iface $i " /etc/network/interfaces /etc/network/interfaces.d/*; then
    # The user's: up now that its driver is there, as its "auto" or "allow-hotplug" line says.
    ifup --allow=auto "$i"
    ifup --allow=hotplug "$i"
  else
    # No class: Debian's networking script leaves it to this.
    printf 'iface %s inet dhcp\\n' "$i" > /run/network/interfaces.d/ramstack
    ifup "$i"
  fi
  break
done
`;

/**
 * The session: periodic saves while running, and the save at shutdown. Its
 * K-link in rc0 and rc6 comes before sendsigs (X-Stop-Before), so it runs
 * while every file system is mounted and writable, the console is free
 * (init has ended the gettys and their shells when the runlevel changed) and
 * nothing has been killed yet; after it, sendsigs, umountfs and umountroot
 * find the save written and flushed.
 */
const RAMSTACK_SESSION = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ramstack
# Required-Start:    $local_fs $syslog $network
# Required-Stop:     $local_fs $syslog
# X-Stop-Before:     sendsigs
# Default-Start:     2 3 4 5
# Default-Stop:      0 6
# Short-Description: ramstack's session saves: periodic, and at shutdown
### END INIT INFO
case "$1" in
start)
  [ -r /etc/rc.d/PUPSTATE ] && . /etc/rc.d/PUPSTATE
  # Periodic saves when /etc/eventmanager sets RAMSAVEINTERVAL (flash mode and archive saves).
  RAMSAVEINTERVAL=0
  [ -r /etc/eventmanager ] && . /etc/eventmanager
  case "$PUPMODE:$RAMSAVEINTERVAL" in
    13:0|66:0|13:|66:) ;;
    13:*|66:*) setsid /usr/bin/ramstack save periodic </dev/null >>/var/log/ramstack-save.log 2>&1 & ;;
  esac
  echo "ramstack: system up (PUPMODE $PUPMODE) at $(cut -d' ' -f1 /proc/uptime) s" > /dev/console
  ;;
stop)
  # Flash mode asks first (see /etc/eventmanager); without a save, the first-save dialog.
  /usr/bin/ramstack save shutdown </dev/console >/dev/console 2>&1
  sync
  ;;
restart|force-reload|status) ;;
*) echo "Usage: $0 start|stop" >&2; exit 3 ;;
esac
exit 0
`;

const INTERFACES = `# ramstack: the loopback here; the first Ethernet card is configured by DHCP
# from /run/network/interfaces.d/ramstack, which /etc/rc.d/rc.sysinit
# writes at boot. An interface named here is left to this file.
auto lo
iface lo inet loopback

source /run/network/interfaces.d/*
`;

/**
 * apt's DPkg::Pre-Install-Pkgs hook: the packages about to be unpacked
 * must fit in the writable layer (the RAM layer; the save itself in PUPMODE
 * 12), which is what / reports through overlayfs. Checked before dpkg runs,
 * so a full layer stops the install with nothing half-unpacked and the save
 * untouched. Plain sh: the apt variant has no awk.
 */
const APT_SPACE_CHECK = `#!/bin/sh
# stdin: the .deb files apt is about to install, one per line.
need=0
while read -r deb; do
  case $deb in *.deb) ;; *) continue ;; esac
  kib=$(dpkg-deb -f "$deb" Installed-Size 2>/dev/null) || continue
  need=$((need + \${kib:-0}))
done
free=$(df -Pk / | { read -r _; read -r _ _ _ avail _; echo "\${avail:-0}"; })
# dpkg keeps each replaced file until the end, and its database grows: a tenth more, and 1 MiB.
want=$((need + need / 10 + 1024))
[ "$want" -le "$free" ] && exit 0
echo "ramstack: not enough room for these packages: they need about $((want / 1024)) MiB, and / has $((free / 1024)) MiB free (the RAM layer, or the save in PUPMODE 12)." >&2
echo "ramstack: nothing was installed, and the save is untouched. Free some room (delete files, save and reboot, or boot with more RAM) and try again; should an install ever stop half-way, 'dpkg --configure -a' finishes it." >&2
exit 1
`;

/** ramstack's integration for ARCH, written over mmdebstrap's tree; these files go in the main SFS. */
export const debianFiles = (arch: Arch): Record<string, SystemFile> => ({
  "etc/inittab": { text: inittab(ARCH[arch].serialConsoles), mode: 0o644 },
  "etc/rc.d/rc.sysinit": { text: RC_SYSINIT, mode: 0o755 },
  // What rc.sysinit mounts (mount -a -T): the file systems of a running system, and apt's in RAM.
  "etc/rc.d/fstab.sysinit": {
    text: [
      "tmpfs /run tmpfs nosuid,nodev,noexec,mode=0755,size=10% 0 0",
      "devpts /dev/pts devpts noexec,nosuid,gid=5,mode=0620,X-mount.mkdir 0 0",
      "tmpfs /dev/shm tmpfs nosuid,nodev,X-mount.mkdir 0 0",
      "",
    ].join("\n"),
    mode: 0o644,
  },
  "etc/rc.d/fstab.apt": {
    text: "tmpfs /var/lib/apt/lists tmpfs mode=0755 0 0\ntmpfs /var/cache/apt tmpfs mode=0755 0 0\n",
    mode: 0o644,
  },
  "etc/init.d/ramstack": { text: RAMSTACK_SESSION, mode: 0o755 },
  "usr/lib/ramstack/autologin": { text: AUTOLOGIN, mode: 0o755 },
  "usr/lib/ramstack/rc": { text: RC, mode: 0o755 },
  "usr/lib/ramstack/coldplug": { text: COLDPLUG, mode: 0o755 },
  "usr/lib/ramstack/hotplug": { text: HOTPLUG, mode: 0o755 },
  "usr/lib/ramstack/apt-space-check": { text: APT_SPACE_CHECK, mode: 0o755 },
  "etc/apt/apt.conf.d/80ramstack": {
    text: '// ramstack: packages must fit in the writable layer before dpkg unpacks them.\nDPkg::Pre-Install-Pkgs { "/usr/lib/ramstack/apt-space-check"; };\n',
    mode: 0o644,
  },
  "etc/network/interfaces": { text: INTERFACES, mode: 0o644 },
  "etc/default/ramstack": {
    text: `# ramstack's settings for the debian profile, read at boot by /etc/rc.d/rc.sysinit.
# RAM_APT=yes: apt's package lists (/var/lib/apt/lists) and downloaded
# packages (/var/cache/apt) are kept in RAM of their own and never saved;
# no: they are files like any other, kept by a save.
RAM_APT=yes
`,
    mode: 0o644,
  },
  "etc/hostname": { text: "ramstack\n", mode: 0o644 },
  "etc/hosts": {
    text: "127.0.0.1 localhost\n127.0.1.1 ramstack\n::1 localhost ip6-localhost ip6-loopback\n",
    mode: 0o644,
  },
  "etc/fstab": { text: "# the ramstack init mounts everything\n", mode: 0o644 },
  // Scripts that drive the serial console see no bracketed-paste codes.
  // The console's automatic login starts at nice -20 (/usr/lib/ramstack/autologin): back to 0 before the first command.
  "etc/profile.d/ramstack.sh": {
    text: [
      "[ -n \"$BASH_VERSION\" ] && [ -t 0 ] && bind 'set enable-bracketed-paste off' 2>/dev/null",
      'if [ -n "${RAMSTACK_RENICE-}" ]; then renice -n 0 -p $$ >/dev/null 2>&1; unset RAMSTACK_RENICE; fi',
      "",
    ].join("\n"),
    mode: 0o644,
  },
  // Debian's rc then runs the scripts one after another in the order of their links, not through startpar:
  // the shutdown save's K01 link surely runs before sendsigs (K03), and on one CPU parallel starts gain nothing.
  "etc/init.d/.legacy-bootordering": { text: "", mode: 0o644 },
  "etc/inittab.d/README": { text: "sysvinit reads *.tab files here as well as /etc/inittab.\n", mode: 0o644 },
});

/** The paths of ramstack's integration: the same for every arch. */
export const DEBIAN_PATHS: readonly string[] = Object.keys(debianFiles("amd64"));

/** The init scripts above, registered with update-rc.d. */
export const DEBIAN_SCRIPTS = ["ramstack"];

/**
 * Debian's boot scripts that rc.sysinit does instead (the kernel file
 * systems, /dev/pts, the host name) or that have nothing to do on a layered
 * root in RAM: the root's fsck and remount (the init mounts the union
 * read-write), fstab's file systems and NFS (none), the RTC (the kernel
 * reads it), the random seed, backlight and boot log (kept nowhere in RAM
 * mode), and syslogd and klogd (started by rc.sysinit). Under emulation
 * each cost 0.5 to 7 s. Disabled, not removed:
 * upgrades keep them off.
 */
export const DEBIAN_DISABLED = [
  "mountkernfs.sh",
  "mountdevsubfs.sh",
  "hostname.sh",
  "checkroot-bootclean.sh",
  "mountall-bootclean.sh",
  "mount-configfs",
  "bootlogs",
  "busybox-syslogd",
  "busybox-klogd",
  "hwclock.sh",
  "checkroot.sh",
  "checkfs.sh",
  "mountall.sh",
  "mountnfs.sh",
  "mountnfs-bootclean.sh",
  "brightness",
  "urandom",
];

/**
 * Run in the tree once the packages are installed: register the scripts;
 * root without a password, as in Puppy (it logs in by itself on the
 * console); /etc/mtab as checkroot.sh would link it; no copy of the build
 * host's resolv.conf (udhcpc writes one).
 */
const CUSTOMIZE = [
  ...DEBIAN_SCRIPTS.map((s) => `update-rc.d ${s} defaults`),
  ...DEBIAN_DISABLED.map((s) => `update-rc.d ${s} disable >/dev/null 2>&1`),
  "ln -sf ../proc/self/mounts /etc/mtab",
  "passwd -d root >/dev/null",
  "rm -f /etc/resolv.conf",
].join(" && ");

/** Files the customize step changes besides debianFiles(): they go in the main SFS too. */
export const DEBIAN_CHANGED = ["etc/shadow", "etc/mtab"];

/** dpkg's path excludes: documentation and the like never reach the tree, nor a package installed later. */
export const dpkgExcludes = (): string[] => DEB_EXCLUDES.map((p) => `path-exclude=/${p}/*`);

export interface DebianBase {
  /** The tree, as mmdebstrap left it with ramstack's integration. */
  dir: string;
  /** Everything it was made from, hashed: part of the keys of the steps that read it. */
  key: string;
  /** Debian's packages in it, "name=version". */
  packages: string[];
}

const ownCode = (): string => sha256(readFileSync(fileURLToPath(import.meta.url)));

/** mmdebstrap's version: its output depends on it. */
function mmdebstrapVersion(): string {
  const r = run("mmdebstrap", ["--version"], { allowFail: true });
  if (r.status !== 0)
    throw new Error("mmdebstrap is not installed (Debian package mmdebstrap; scripts/setup.sh installs it)");
  return r.stdout.trim();
}

/** The recipe's key: the tree is made again when, and only when, it changes. */
export function debianBaseKey(epoch: number, arch: Arch): string {
  return sha256(
    JSON.stringify({
      arch,
      suite: DEBIAN_SUITE,
      sources: debianSources(),
      packages: DEBIAN_PACKAGES,
      files: debianFiles(arch),
      customize: CUSTOMIZE,
      excludes: dpkgExcludes(),
      epoch,
      mmdebstrap: mmdebstrapVersion(),
      // A new package list on this machine is the sign that the mirror has new versions.
      apt: aptState(),
      code: ownCode(),
    }),
  );
}

function installedPackages(dir: string): string[] {
  const r = run("dpkg-query", [`--admindir=${join(dir, "var/lib/dpkg")}`, "-W", "-f", "${Package}=${Version}\\n"]);
  return r.stdout.split("\n").filter(Boolean).sort();
}

/**
 * Another arch's programs (maintainer scripts, apt in a task's install) run
 * through qemu-user, which the kernel's binfmt_misc must know: checked
 * first, so that a build fails with the fix rather than deep in dpkg.
 */
export function checkForeignArch(arch: Arch): void {
  if (arch === hostDebArch()) return;
  const r = run("arch-test", [arch], { allowFail: true });
  if (r.status === 0 && r.stdout.includes("ok")) return;
  throw new Error(
    `this machine cannot run ${arch} programs, which the debian profile's install runs (${(r.stdout + r.stderr).trim() || "arch-test is not installed"}): ` +
      `install qemu-user-static, binfmt-support and arch-test (scripts/setup.sh does), and check that /proc/sys/fs/binfmt_misc/qemu-${ARCH[arch].machine} says "enabled"`,
  );
}

/**
 * The Debian tree for this epoch and ARCH: made by mmdebstrap unless the
 * cache holds it (the caller has checked the arch's programs run here:
 * checkForeignArch).
 */
export async function debianBase(
  epoch: number,
  arch: Arch,
  log: (s: string) => void,
  out: ProgressOut | null,
): Promise<DebianBase> {
  const key = debianBaseKey(epoch, arch);
  // One tree per arch: each arch's older trees are removed, not the other's.
  const root = join(cacheDir(), "debian", arch);
  const dir = join(root, key.slice(0, 16));
  if (existsSync(join(dir, ".done"))) {
    log("the Debian base (mmdebstrap) is up to date");
    return { dir: join(dir, "tree"), key, packages: installedPackages(join(dir, "tree")) };
  }
  log(
    `building the Debian base with mmdebstrap (${DEBIAN_SUITE} ${arch}, ${DEBIAN_PACKAGES.length} packages and their dependencies)`,
  );
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const stage = join(tmp, "stage");
  writeSystemFiles(stage, debianFiles(arch));
  const tree = join(tmp, "tree");
  // mmdebstrap says what it is doing in lines "I: …" on stderr: shown as they come.
  const p = progress(out, "build: mmdebstrap");
  const said = lineSplitter((line) => {
    const m = /^([IWE]): (.*)$/.exec(line);
    if (m) p.note(m[1] === "I" ? m[2]! : line);
  });
  try {
    await runStreaming(
      "mmdebstrap",
      [
        "--variant=apt",
        `--architectures=${arch}`,
        "--format=directory",
        // /bin, /sbin and /lib as links into /usr, as bookworm's packages expect, without the usrmerge package (and its Perl).
        "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
        `--include=${DEBIAN_PACKAGES.join(",")}`,
        ...dpkgExcludes().map((e) => `--dpkgopt=${e}`),
        `--customize-hook=sync-in ${stage} /`,
        `--customize-hook=chroot "$1" sh -c '${CUSTOMIZE}'`,
        DEBIAN_SUITE,
        tree,
        ...debianSources(),
      ],
      { env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) }, onStderr: said },
    );
    p.end();
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  rmSync(stage, { recursive: true, force: true });
  writeFileSync(join(tmp, ".done"), key + "\n");
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  // Older trees (another recipe) are not used again.
  for (const other of readdirSync(root))
    if (other !== key.slice(0, 16) && !other.includes(".tmp-"))
      rmSync(join(root, other), { recursive: true, force: true });
  return { dir: join(dir, "tree"), key, packages: installedPackages(join(dir, "tree")) };
}
