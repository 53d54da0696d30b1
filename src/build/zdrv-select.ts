// Which of the kernel's modules a board system's zdrv holds. Debian's arm64
// kernel carries drivers for every arm64 machine (other SoCs, servers' PCI
// cards): 281 MiB of modules, 58 MiB in zdrv, more than the whole SD card
// should be. The arm64 systems ramstack makes run on the Raspberry Pis and
// QEMU's virt, so zdrv keeps what can be found there:
// - drivers whose device-tree compatibles are in the boards' device trees;
// - drivers for what plugs in: USB, and PCI drivers that serve a whole class
//   (xHCI, NVMe, AHCI: a Pi 4's and a CM4's PCIe);
// - the Pi's own Wi-Fi on SDIO (Broadcom), virtio (virt);
// - everything not tied to hardware: file systems, network protocols, crypto;
// - and whatever a kept module depends on.
// Left out: drivers whose only ways to be found are other machines' (another
// SoC's compatibles, a vendor's PCI or SDIO ids, ACPI), extensions of those
// drivers, the libraries only they use, data-centre features (SERVER_ONLY)
// and the kernel's self-tests. zdrv
// lists them (LEFT_OUT_LIST), so a missing driver is explained, not a mystery.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { moduleIndex } from "./modules.js";

export interface ModuleTable {
  /** Path (relative to lib/modules/KVER) -> the paths it depends on (modules.dep). */
  deps: Map<string, string[]>;
  /** Path -> its aliases (modules.alias). */
  aliases: Map<string, string[]>;
}

/** The file in zdrv's lib/modules/KVER that names the modules left out. */
export const LEFT_OUT_LIST = "ramstack-left-out";

/** Alias prefixes that name a way hardware is found: a module with any is judged by them. */
const HARDWARE_ALIAS =
  /^(of|pci|acpi|usb|i2c|spi|platform|sdio|virtio|pnp|dmi|hid|serio|mdio|auxiliary|amba|ieee1394|pcmcia|vmbus|xen|wmi|fsl-mc|rpmsg|mhi|cxl|ssb|bcma|mei|ishtp|tbsvc|typec|scmi|sdw|ulpi|spmi|slim|hdaudio|ac97|w1|i3c|mipi-dsi|dfl|eisa|tee|ccw|ap|css)\*?:/;

/** Buses where whatever is plugged in may need the driver. */
const PLUGGABLE = /^(usb|hid|serio|virtio|ulpi|typec|w1|mdio|amba):/;

/**
 * QEMU's virt machine's compatibles (\`-M virt,dumpdtb=\`): it is the other
 * arm64 board, and has no device tree in the kernel package.
 */
export const VIRT_COMPATIBLES = [
  "linux,dummy-virt",
  "arm,psci-1.0",
  "arm,psci-0.2",
  "arm,psci",
  "qemu,platform",
  "simple-bus",
  "qemu,fw-cfg-mmio",
  "virtio,mmio",
  "gpio-keys",
  "arm,pl061",
  "arm,primecell",
  "pci-host-ecam-generic",
  "arm,pl031",
  "arm,pl011",
  "arm,armv8-pmuv3",
  "arm,cortex-a15-gic",
  "arm,gic-v2m-frame",
  "cfi-flash",
  "arm,cortex-a53",
  "arm,armv8-timer",
  "arm,armv7-timer",
  "fixed-clock",
];

/** fnmatch's * and ? as a regular expression. */
const globRegExp = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );

/** Whether one alias finds hardware the boards have or can take. */
export function aliasOnBoards(alias: string, compatibles: ReadonlySet<string>): boolean {
  if (PLUGGABLE.test(alias)) return true;
  if (alias.startsWith("of:")) {
    const m = /^of:N(.*?)T(.*?)C(.*)$/.exec(alias);
    // A node name or type of its own: rare, and not judged.
    if (!m || m[1] !== "*" || m[2] !== "*") return true;
    const compat = globRegExp(m[3]!.replace(/C\*$/, ""));
    for (const c of compatibles) if (compat.test(c)) return true;
    return false;
  }
  // Every vendor's device of a class (pci:v*d*sv*sd*bc01sc08i02*: NVMe): what a PCIe slot takes.
  if (alias.startsWith("pci:")) return alias.startsWith("pci:v*d*");
  // The Pis' Wi-Fi and Bluetooth chips are Broadcom's, on SDIO.
  if (alias.startsWith("sdio:")) return /v02D0/i.test(alias);
  // Made by other drivers (MFD cells, the Pi's firmware driver's children).
  if (alias.startsWith("platform:")) return true;
  return false;
}

/**
 * Data-centre features no board system serves: cluster and distributed file
 * systems, RDMA adapters, SCSI and NVMe targets, replicated block devices.
 * Left out unless a kept module needs one (the SMB client's RDMA needs
 * ib_core).
 */
const SERVER_ONLY =
  /^kernel\/(fs\/(ocfs2|gfs2|dlm|ceph|orangefs|coda|afs)|net\/(ceph|rds|tipc|smc|sunrpc\/xprtrdma)|drivers\/(infiniband|target|nvme\/target|block\/drbd|md\/bcache|scsi\/(libfc|fcoe|bnx2fc|qedf|cxgbi|be2iscsi)))\//;

const isSelfTest = (path: string): boolean => /\/(test_[^/]*|[^/]*_test|[^/]*kunit[^/]*)\.ko(\.\w+)?$/.test(path);
const isHardware = (path: string): boolean => /^kernel\/(drivers|sound)\//.test(path);

/**
 * The modules kept for boards whose device trees have COMPATIBLES, and the
 * ones left out (paths relative to lib/modules/KVER, sorted).
 */
export function boardModules(t: ModuleTable, compatibles: ReadonlySet<string>): { keep: string[]; leftOut: string[] } {
  const kept = new Set<string>();
  for (const path of t.deps.keys()) {
    if (isSelfTest(path) || SERVER_ONLY.test(path)) continue;
    const found = (t.aliases.get(path) ?? []).filter((a) => HARDWARE_ALIAS.test(a));
    // A driver that says which device-tree nodes it binds is judged by those alone.
    const of = found.filter((a) => a.startsWith("of:"));
    const judged = of.length ? of : found;
    if (judged.length === 0 || judged.some((a) => aliasOnBoards(a, compatibles))) kept.add(path);
  }
  const hasAliases = (p: string): boolean => (t.aliases.get(p) ?? []).some((a) => HARDWARE_ALIAS.test(a));
  const users = new Map<string, string[]>();
  for (const [p, ds] of t.deps) for (const d of ds) users.set(d, [...(users.get(d) ?? []), p]);
  // Hardware code without aliases of its own goes with the drivers it serves or extends.
  for (let changed = true; changed;) {
    changed = false;
    for (const p of kept) {
      if (!isHardware(p) || hasAliases(p)) continue;
      const extendsLeftOut = (t.deps.get(p) ?? []).some((d) => !kept.has(d));
      const u = users.get(p) ?? [];
      const servesNoneKept = u.length > 0 && u.every((x) => !kept.has(x));
      if (extendsLeftOut || servesNoneKept) {
        kept.delete(p);
        changed = true;
      }
    }
  }
  // Whatever a kept module needs (modules.dep lists every level).
  for (const p of [...kept]) for (const d of t.deps.get(p) ?? []) kept.add(d);
  const keep = [...kept].sort();
  const leftOut = [...t.deps.keys()].filter((p) => !kept.has(p)).sort();
  return { keep, leftOut };
}

/** modules.dep and modules.alias of a kernel's depmod'ed module tree (under ROOT). */
export function readModuleTable(root: string, kver: string): ModuleTable {
  const { paths, deps } = moduleIndex(root, kver);
  const aliases = new Map<string, string[]>();
  for (const line of readFileSync(join(root, "lib/modules", kver, "modules.alias"), "utf8").split("\n")) {
    const m = /^alias (\S+) (\S+)$/.exec(line);
    const path = m && paths.get(m[2]!.replace(/-/g, "_"));
    if (path) aliases.set(path, [...(aliases.get(path) ?? []), m[1]!]);
  }
  return { deps, aliases };
}

/**
 * Every "compatible" string of a flattened device tree (the DTB format:
 * a header, a structure block of tokens, a strings block of property names).
 */
export function dtbCompatibles(dtb: Buffer): string[] {
  if (dtb.length < 40 || dtb.readUInt32BE(0) !== 0xd00dfeed) throw new Error("not a device tree blob");
  const structAt = dtb.readUInt32BE(8);
  const stringsAt = dtb.readUInt32BE(12);
  const found: string[] = [];
  const align = (n: number): number => (n + 3) & ~3;
  for (let at = structAt; at + 4 <= dtb.length;) {
    const token = dtb.readUInt32BE(at);
    at += 4;
    if (token === 1)
      at = align(dtb.indexOf(0, at) + 1); // a node begins: its name
    else if (token === 3) {
      const len = dtb.readUInt32BE(at);
      const nameAt = stringsAt + dtb.readUInt32BE(at + 4);
      const name = dtb.toString("latin1", nameAt, dtb.indexOf(0, nameAt));
      if (name === "compatible")
        found.push(
          ...dtb
            .toString("latin1", at + 8, at + 8 + len)
            .split("\0")
            .filter(Boolean),
        );
      at = align(at + 8 + len);
    } else if (token === 9)
      break; // the end
    else if (token !== 2 && token !== 4) throw new Error(`a device tree with an unknown token ${token} at ${at - 4}`);
  }
  return found;
}
