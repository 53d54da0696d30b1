// The benches' baseline: a busybox sh /init doing the same mounts as
// ramstack's init with everything hard-coded (the boot partition, the
// drivers, the SFS names), in an initrd of busybox and the same modules.

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Arch } from "../src/build/arch.js";
import { writeInitrd } from "../src/build/cpio.js";
import { fetchComponents, scratchDir } from "../src/build/components.js";
import { installModules, moduleClosure } from "../src/build/modules.js";
import { installBusybox } from "../src/build/trees.js";

/** Where the baseline boots from: the arch, the boot partition and the drivers that reach it. */
export interface BaselineMachine {
  arch: Arch;
  partition: string;
  fstype: string;
  /** Mount options of the boot partition. */
  options: string;
  modules: string[];
  /**
   * A partition the init looks at for a save (SAVEMARK points there): the
   * baseline mounts it, lists it and unmounts it, as ramstack's init does
   * when it finds no save on it.
   */
  save?: { partition: string; fstype: string };
}

const LAYERS = ["crc32c_generic", "squashfs", "loop", "overlay"];

/** A PC with a virtio disk holding an ext4 boot partition. */
export const PC_BASELINE: BaselineMachine = {
  arch: "amd64",
  partition: "vda1",
  fstype: "ext4",
  options: "noatime",
  modules: ["virtio_pci", "virtio_blk", "ext4", ...LAYERS],
};

/** A Raspberry Pi 3's SD card: its FAT boot partition, and the ext4 save partition SAVEMARK names. */
export const PI_BASELINE: BaselineMachine = {
  arch: "arm64",
  partition: "mmcblk0p1",
  fstype: "vfat",
  options: "noatime,codepage=437,iocharset=ascii",
  modules: ["sdhci_iproc", "bcm2835", "vfat", "nls_cp437", "nls_ascii", "ext4", ...LAYERS],
  save: { partition: "mmcblk0p2", fstype: "ext4" },
};

function baselineInit(release: string, puppy: string, zdrv: string, m: BaselineMachine): string {
  const p = m.partition;
  return `#!/bin/busybox sh
export PATH=/bin
busybox mount -t proc proc /proc
busybox mount -t sysfs sysfs /sys
busybox mount -t devtmpfs devtmpfs /dev
modprobe -a ${m.modules.join(" ")}
while [ ! -e /dev/${p} ]; do usleep 20000; done
mkdir -p /mnt/${p} /mnt/tmpfs /pup_ro2 /pup_z /pup_new
mount -t ${m.fstype} -o ${m.options} /dev/${p} /mnt/${p}
${
  m.save
    ? `mkdir -p /mnt/${m.save.partition}
mount -t ${m.save.fstype} -o noatime /dev/${m.save.partition} /mnt/${m.save.partition} && ls /mnt/${m.save.partition} >/dev/null
umount /mnt/${m.save.partition}
`
    : ""
}mount -t tmpfs -o size=50% tmpfs /mnt/tmpfs
mkdir -p /mnt/tmpfs/pup_rw /mnt/tmpfs/pup_work
mount -t squashfs -o loop,ro /mnt/${p}/${puppy} /pup_ro2
mount -t squashfs -o loop,ro /mnt/${p}/${zdrv} /pup_z
mount -t overlay -o lowerdir=/pup_ro2:/pup_z,upperdir=/mnt/tmpfs/pup_rw,workdir=/mnt/tmpfs/pup_work overlay /pup_new
for m in /mnt/${p} /mnt/tmpfs /pup_ro2 /pup_z; do mkdir -p /pup_new/initrd$m; mount -o move $m /pup_new/initrd$m; done
echo "PUPMODE='5'" > /pup_new/etc/rc.d/PUPSTATE
for m in dev proc sys; do mount -o move /$m /pup_new/$m; done
exec switch_root /pup_new /sbin/init
# kernel ${release}
`;
}

export function buildBaselineInitrd(dir: string, puppy: string, zdrv: string, m: BaselineMachine): string {
  const c = fetchComponents(m.arch, () => undefined);
  const tree = scratchDir("baseline-initrd");
  installBusybox(tree, c.busybox, false);
  for (const d of ["dev", "proc", "sys", "tmp", "mnt"]) mkdirSync(join(tree, d), { recursive: true });
  writeFileSync(join(tree, "init"), baselineInit(c.kernel.release, puppy, zdrv, m), { mode: 0o755 });
  installModules(
    c.kernel.root,
    c.kernel.release,
    moduleClosure(c.kernel.root, c.kernel.release, m.modules).files,
    tree,
  );
  const out = join(dir, `baseline-initrd-${m.arch}.gz`);
  writeInitrd(tree, out, 1767225600);
  rmSync(tree, { recursive: true, force: true });
  return out;
}
