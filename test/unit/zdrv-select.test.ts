// Unit tier: which modules a board system's zdrv keeps (src/build/zdrv-select.ts),
// on a small module table shaped like Debian's arm64 kernel's.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ModuleTable } from "../../src/build/zdrv-select.js";
import { aliasOnBoards, boardModules, dtbCompatibles, VIRT_COMPATIBLES } from "../../src/build/zdrv-select.js";

const PI = new Set(["raspberrypi,3-model-b", "brcm,bcm2837", "brcm,bcm2835-sdhost", "brcm,bcm2835-i2c", "arm,pl011"]);

/** path -> [dependencies, aliases] */
function table(mods: Record<string, [string[], string[]]>): ModuleTable {
  return {
    deps: new Map(Object.entries(mods).map(([p, [d]]) => [p, d])),
    aliases: new Map(Object.entries(mods).map(([p, [, a]]) => [p, a])),
  };
}

const D = "kernel/drivers";

describe("the modules a board's zdrv keeps", () => {
  const t = table({
    [`${D}/mmc/host/bcm2835.ko`]: [[], ["of:N*T*Cbrcm,bcm2835-sdhost", "of:N*T*Cbrcm,bcm2835-sdhostC*"]],
    [`${D}/mmc/host/sdhci-tegra.ko`]: [[], ["of:N*T*Cnvidia,tegra210-sdhci", "platform:sdhci-tegra"]],
    [`${D}/i2c/busses/i2c-bcm2835.ko`]: [[], ["of:N*T*Cbrcm,bcm2835-i2c"]],
    [`${D}/net/usb/smsc95xx.ko`]: [[`${D}/net/usb/usbnet.ko`], ["usb:v0424pEC00d*dc*dsc*dp*ic*isc*ip*in*"]],
    [`${D}/net/usb/usbnet.ko`]: [[], []],
    [`${D}/net/ethernet/intel/ice/ice.ko`]: [[], ["pci:v00008086d00001591sv*sd*bc*sc*i*"]],
    [`${D}/infiniband/hw/irdma/irdma.ko`]: [[`${D}/net/ethernet/intel/ice/ice.ko`], ["auxiliary:ice.iwarp", "i40iw"]],
    [`${D}/nvme/host/nvme.ko`]: [[`${D}/nvme/host/nvme-core.ko`], ["pci:v*d*sv*sd*bc01sc08i02*"]],
    [`${D}/nvme/host/nvme-core.ko`]: [[], []],
    [`${D}/media/pci/cx88/cx8800.ko`]: [[`${D}/media/pci/cx88/cx88xx.ko`], ["pci:v000014F1d00008800sv*sd*bc*sc*i*"]],
    [`${D}/media/pci/cx88/cx88xx.ko`]: [[], []],
    [`${D}/media/pci/cx88/cx8802.ko`]: [[`${D}/media/pci/cx88/cx88xx.ko`], ["pci:v000014F1d00008802sv*sd*bc*sc*i*"]],
    [`${D}/media/pci/cx88/cx88-dvb.ko`]: [[`${D}/media/pci/cx88/cx8802.ko`, `${D}/media/pci/cx88/cx88xx.ko`], []],
    [`${D}/acpi/battery.ko`]: [[], ["acpi*:PNP0C0A:*"]],
    [`${D}/platform/chrome/cros_ec_acpi.ko`]: [[], ["acpi*:GOOG0004:*"]],
    [`${D}/mfd/arizona-cell.ko`]: [[], ["platform:arizona-ldo1"]],
    [`${D}/net/wireless/broadcom/brcm80211/brcmfmac/brcmfmac.ko`]: [[], ["sdio:c*v02D0dA9A6*", "usb:v04B4pBD29d*"]],
    [`${D}/net/wireless/ti/wl1251/wl1251_sdio.ko`]: [[], ["sdio:c*v0097d4076*"]],
    [`${D}/virtio/virtio_mmio.ko`]: [[], ["of:N*T*Cvirtio,mmio", "acpi*:LNRO0005:*"]],
    [`${D}/net/virtio_net.ko`]: [[], ["virtio:d00000001v*"]],
    ["kernel/fs/btrfs/btrfs.ko"]: [["kernel/lib/raid6/raid6_pq.ko"], ["fs-btrfs", "devname:btrfs-control"]],
    ["kernel/lib/raid6/raid6_pq.ko"]: [[], []],
    ["kernel/lib/test_bpf.ko"]: [[], []],
    ["kernel/fs/ocfs2/ocfs2.ko"]: [["kernel/fs/dlm/dlm.ko"], ["fs-ocfs2"]],
    ["kernel/fs/dlm/dlm.ko"]: [[], []],
    ["kernel/fs/smb/client/cifs.ko"]: [[`${D}/infiniband/core/ib_core.ko`], ["fs-cifs"]],
    [`${D}/infiniband/core/ib_core.ko`]: [[], []],
    [`${D}/target/target_core_mod.ko`]: [[], []],
    [`${D}/gpu/drm/amd/amdgpu/amdgpu.ko`]: [
      [`${D}/gpu/drm/drm_ttm_helper.ko`, `${D}/gpu/drm/drm.ko`],
      ["pci:v00001002d00006780sv*sd*bc*sc*i*"],
    ],
    [`${D}/gpu/drm/drm_ttm_helper.ko`]: [[`${D}/gpu/drm/drm.ko`], []],
    [`${D}/gpu/drm/vc4/vc4.ko`]: [[`${D}/gpu/drm/drm.ko`], ["of:N*T*Cbrcm,bcm2835-vc4"]],
    [`${D}/gpu/drm/drm.ko`]: [[], []],
  });
  const { keep, leftOut } = boardModules(t, new Set([...PI, "brcm,bcm2835-vc4", ...VIRT_COMPATIBLES]));
  const kept = (name: string): boolean => keep.some((p) => p.endsWith(`/${name}.ko`));
  const out = (name: string): boolean => leftOut.some((p) => p.endsWith(`/${name}.ko`));

  it("keeps the drivers whose compatibles are in the boards' device trees, and leaves out other SoCs'", () => {
    assert.ok(kept("bcm2835") && kept("i2c-bcm2835") && kept("vc4"));
    // judged by its of: aliases alone, though it also has a platform: one
    assert.ok(out("sdhci-tegra"));
  });

  it("keeps USB drivers and what they need, virtio, and PCI drivers for a whole class", () => {
    assert.ok(kept("smsc95xx") && kept("usbnet"));
    assert.ok(kept("virtio_net") && kept("virtio_mmio"));
    assert.ok(kept("nvme") && kept("nvme-core"));
  });

  it("leaves out a vendor's PCI drivers, their extensions and the libraries only they use", () => {
    assert.ok(out("ice") && out("irdma"));
    assert.ok(out("cx8800") && out("cx88xx") && out("cx88-dvb"));
    assert.ok(out("amdgpu") && out("drm_ttm_helper"));
  });

  it("keeps a library a kept driver uses, and hardware-free modules; leaves out self-tests and ACPI-only drivers", () => {
    assert.ok(kept("drm"));
    assert.ok(kept("btrfs") && kept("raid6_pq"));
    assert.ok(out("test_bpf"));
    assert.ok(out("battery") && out("cros_ec_acpi"));
  });

  it("leaves out data-centre features, unless a kept module needs one", () => {
    assert.ok(out("ocfs2") && out("dlm") && out("target_core_mod"));
    assert.ok(kept("cifs") && kept("ib_core"));
  });

  it("keeps platform-only drivers (other drivers make their devices) and Broadcom's SDIO Wi-Fi, not another vendor's", () => {
    assert.ok(kept("arizona-cell"));
    assert.ok(kept("brcmfmac"));
    assert.ok(out("wl1251_sdio"));
  });

  it("splits every module into kept or left out, each once", () => {
    assert.equal(keep.length + leftOut.length, t.deps.size);
    assert.equal(new Set([...keep, ...leftOut]).size, t.deps.size);
  });

  it("matches device-tree aliases as globs, a trailing C* included", () => {
    assert.equal(aliasOnBoards("of:N*T*Cbrcm,bcm2835-*C*", PI), true);
    assert.equal(aliasOnBoards("of:N*T*Cbrcm,bcm2711-pcie", PI), false);
    // a node name of its own is not judged
    assert.equal(aliasOnBoards("of:NgpioT*Cfoo,bar", PI), true);
  });
});

/** A device tree blob with one node per compatible list (the DTB format's header, structure and strings blocks). */
function dtb(nodes: string[][]): Buffer {
  const strings = Buffer.from("compatible\0");
  const words: Buffer[] = [];
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const padded = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  words.push(u32(1), padded(Buffer.from("\0")));
  nodes.forEach((compat, i) => {
    const value = Buffer.from(compat.map((c) => `${c}\0`).join(""));
    words.push(u32(1), padded(Buffer.from(`node@${i}\0`)), u32(3), u32(value.length), u32(0), padded(value), u32(2));
  });
  words.push(u32(2), u32(9));
  const struct = Buffer.concat(words);
  const header = Buffer.alloc(40);
  header.writeUInt32BE(0xd00dfeed, 0);
  header.writeUInt32BE(40 + struct.length + strings.length, 4);
  header.writeUInt32BE(40, 8);
  header.writeUInt32BE(40 + struct.length, 12);
  return Buffer.concat([header, struct, strings]);
}

describe("the compatibles of a device tree blob", () => {
  it("reads every string of every compatible property", () => {
    assert.deepEqual(dtbCompatibles(dtb([["brcm,bcm2835-sdhost"], ["arm,pl011", "arm,primecell"]])), [
      "brcm,bcm2835-sdhost",
      "arm,pl011",
      "arm,primecell",
    ]);
  });

  it("refuses what is not a device tree", () => {
    assert.throws(() => dtbCompatibles(Buffer.alloc(64)), /not a device tree blob/);
  });
});
