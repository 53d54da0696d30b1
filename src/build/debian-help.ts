// What `ramstack build --help` says of the debian profile (kept out of the
// builder's modules: a change to it rebuilds nothing).

/** What `ramstack build --help` says of the debian profile. */
export const DEBIAN_HELP = `The debian profile (needs mmdebstrap; fetches from Debian's mirror):
  bdrv      Debian's base as mmdebstrap makes it, maintainer scripts run:
            apt and dpkg (software is installed at run time), sysvinit,
            ifupdown with udhcpc, busybox's syslogd; no docs, man pages,
            locales or apt lists. Stacked above the main SFS, so it leaves
            out the paths the main SFS holds.
  main SFS  the ramstack system: the ramstack command, /etc/rc.d (rc.sysinit,
            PUPSTATE), /etc/eventmanager, DISTRO_SPECS, and what ties
            ramstack to Debian: inittab, /etc/init.d/ramstack, network settings.
  zdrv      the kernel's modules and firmware (also under /usr/lib).
  Init: sysvinit (a 51 KiB PID 1, shell scripts ordered by insserv). Its
  shutdown runs 'ramstack save shutdown' from /etc/init.d/ramstack, whose
  K01 link comes before sendsigs and umountfs. No udev: the drivers of the
  devices present are loaded at boot, later ones through busybox uevent.`;
