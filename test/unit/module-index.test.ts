// Unit tier: what the QuickJS port works out before finit_module: names and
// aliases resolved through modules.dep and modules.alias, dependencies
// first, parameters from the kernel command line.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cmdlineModuleParams,
  globRegExp,
  loadOrder,
  moduleName,
  parseModuleIndex,
  resolveModule,
} from "../../src/port/module-index.js";

const DEP = `kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/drivers/mmc/host/sdhci-iproc.ko: kernel/drivers/mmc/host/sdhci-pltfm.ko kernel/drivers/mmc/host/sdhci.ko
kernel/drivers/mmc/host/sdhci-pltfm.ko: kernel/drivers/mmc/host/sdhci.ko
kernel/drivers/mmc/host/sdhci.ko:
kernel/drivers/mmc/host/bcm2835.ko:
kernel/drivers/usb/storage/usb-storage.ko.xz:
kernel/drivers/ata/ata_piix.ko: kernel/drivers/ata/libata.ko
kernel/drivers/ata/libata.ko:
`;
const ALIAS = `# Aliases extracted from modules themselves.
alias of:N*T*Cbrcm,bcm2835-sdhciC* sdhci_iproc
alias of:N*T*Cbrcm,bcm2835-sdhci sdhci_iproc
alias of:N*T*Cbrcm,bcm2835-sdhostC* bcm2835
alias of:N*T*Cbrcm,bcm2835-sdhost bcm2835
alias usb:v*p*d*dc*dsc*dp*ic08isc06ip50in* usb_storage
alias pci:v00008086d00007010sv*sd*bc*sc*i* ata_piix
alias pci:v00008086d00007111sv*sd*bc*sc*i* ata_piix
alias fs-ext4 ext4
alias *:gone missing_module
`;

describe("module names, aliases and load order", () => {
  const index = parseModuleIndex(DEP, ALIAS);

  it("names a module by its file or as asked, with underscores", () => {
    assert.equal(moduleName("kernel/drivers/mmc/host/sdhci-iproc.ko"), "sdhci_iproc");
    assert.equal(moduleName("kernel/drivers/usb/storage/usb-storage.ko.xz"), "usb_storage");
    assert.equal(moduleName("crc32c-intel"), "crc32c_intel");
    assert.equal(index.paths.get("usb_storage"), "kernel/drivers/usb/storage/usb-storage.ko.xz");
  });
  it("loads what a module needs before it, each module once", () => {
    assert.deepEqual(loadOrder(index, ["ext4"]), ["crc16", "mbcache", "jbd2", "ext4"]);
    assert.deepEqual(loadOrder(index, ["sdhci-iproc", "sdhci_iproc", "bcm2835"]), [
      "sdhci",
      "sdhci_pltfm",
      "sdhci_iproc",
      "bcm2835",
    ]);
  });
  it("resolves a device's alias through modules.alias's patterns", () => {
    assert.deepEqual(
      resolveModule(index, "of:NmmcT(null)Cbrcm,bcm2835-sdhci"),
      ["sdhci_iproc"],
      "a device-tree alias with (null) in it",
    );
    assert.deepEqual(resolveModule(index, "of:NmmcT(null)Cbrcm,bcm2835-sdhostCfoo"), ["bcm2835"]);
    assert.deepEqual(resolveModule(index, "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80"), ["ata_piix"]);
    assert.deepEqual(resolveModule(index, "usb:v0781p5567d0100dc00dsc00dp00ic08isc06ip50in00"), ["usb_storage"]);
    assert.deepEqual(resolveModule(index, "fs-ext4"), ["ext4"]);
    assert.deepEqual(loadOrder(index, ["pci:v00008086d00007010sv0sd0bc01sc01i80"]), ["libata", "ata_piix"]);
  });
  it("finds what matching every pattern would, though it tests most by their literal start only", () => {
    const patterns = `${ALIAS}alias pci:v[0-9]*d00001234* set_first
alias pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00 exact
alias pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00x too_long
alias pci:v00001AF4d?0001001* one_char
`;
    const paths = ["set_first", "exact", "too_long", "one_char"].map((m) => `${m}.ko:`).join("\n");
    const all = parseModuleIndex(`${DEP}${paths}\n`, patterns);
    const asked = [
      "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00",
      "pci:v00001234d00001234sv0sd0bc0sc0i0",
      "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80",
      "of:NmmcT(null)Cbrcm,bcm2835-sdhci",
      "x:gone",
    ];
    for (const a of asked) {
      const everyPattern = [...all.buses]
        .flatMap((b) => all.aliases(b))
        .filter((p) => globRegExp(p.pattern).test(a) && all.paths.has(p.module))
        .map((p) => p.module);
      assert.deepEqual(resolveModule(all, a).sort(), [...new Set(everyPattern)].sort(), a);
    }
    assert.deepEqual(resolveModule(all, asked[0]!).sort(), ["exact", "one_char"]);
  });
  it("names and aliases that resolve to nothing load nothing (modprobe -q)", () => {
    assert.deepEqual(loadOrder(index, ["nosuch", "pci:v00001234d00005678sv0sd0bc0sc0i0", "x:gone"]), []);
  });
  it("turns fnmatch patterns into anchored expressions", () => {
    assert.ok(globRegExp("a*b?c").test("aXXbYc"));
    assert.ok(!globRegExp("a*b?c").test("aXXbYcd"));
    assert.ok(globRegExp("v[0-9][!a]x").test("v5bx"));
    assert.ok(!globRegExp("v[0-9][!a]x").test("v5ax"));
    assert.ok(globRegExp("a.b(c)+d").test("a.b(c)+d"));
    assert.ok(!globRegExp("a.b").test("aXb"));
  });
  it("reads module parameters from the kernel command line", () => {
    const p = cmdlineModuleParams(
      'console=ttyS0 usb-storage.quirks=0781:5567:u loop.max_part=8 loop.hw_queue_depth=4 psave=sdb2:/a.4fs sdhci.debug_quirks2="1 2"',
    );
    assert.deepEqual(
      [...p],
      [
        ["usb_storage", "quirks=0781:5567:u"],
        ["loop", "max_part=8 hw_queue_depth=4"],
        ["sdhci", 'debug_quirks2="1 2"'],
      ],
    );
  });
});
