// Unit tier: the ICU data package reader and writer and which items stay.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keepIcuItem, readIcuPackage, writeIcuPackage } from "../../src/build/icu.js";

/** A CmnD header as ICU writes it: size, magic, UDataInfo (little-endian, ASCII), padded to 32 bytes. */
function header(): Buffer {
  const h = Buffer.alloc(32);
  h.writeUInt16LE(32, 0);
  h[2] = 0xda;
  h[3] = 0x27;
  h.writeUInt16LE(20, 4);
  h[8] = 0; // little-endian
  h[10] = 2; // sizeof(UChar)
  h.write("CmnD", 12, "latin1");
  h[16] = 1;
  return h;
}

describe("ICU data packages", () => {
  const items = [
    { name: "icudt78l/coll/root.res", data: Buffer.from("root collation") },
    { name: "icudt78l/es.res", data: Buffer.from("spanish") },
    { name: "icudt78l/fr.res", data: Buffer.from("french bundle, longer") },
  ];

  it("reads back what it writes, each item 16-byte aligned", () => {
    const pkg = writeIcuPackage(header(), items);
    const back = readIcuPackage(pkg);
    assert.equal(back.header.length, 32);
    assert.deepEqual(
      back.items.map((i) => i.name),
      items.map((i) => i.name),
    );
    back.items.forEach((item, k) => {
      assert.equal(item.data.subarray(0, items[k]!.data.length).toString(), items[k]!.data.toString());
      // Relative to the TOC, as ICU reads them; the header is a multiple of 16 too.
      assert.equal((item.data.byteOffset - pkg.byteOffset - 32) % 16, 0);
    });
  });

  it("writes a smaller package when items are left out", () => {
    const all = writeIcuPackage(header(), items);
    const some = writeIcuPackage(
      header(),
      items.filter((i) => keepIcuItem(i.name)),
    );
    assert.ok(some.length < all.length);
    assert.deepEqual(
      readIcuPackage(some).items.map((i) => i.name),
      ["icudt78l/coll/root.res", "icudt78l/es.res"],
    );
  });

  it("refuses what is not a little-endian common data package", () => {
    const big = header();
    big[8] = 1;
    assert.throws(() => readIcuPackage(Buffer.concat([big, Buffer.alloc(8)])), /little-endian ICU common data/);
    assert.throws(() => readIcuPackage(Buffer.alloc(64)), /ICU common data/);
  });
});

describe("which ICU items stay", () => {
  it("keeps English and Spanish bundles in every tree, and root, pool and the indexes", () => {
    for (const n of [
      "es.res",
      "en_US.res",
      "coll/es.res",
      "zone/en.res",
      "root.res",
      "coll/root.res",
      "pool.res",
      "res_index.res",
      "curr/res_index.res",
      "brkitr/en_US_POSIX.res",
    ])
      assert.ok(keepIcuItem(`icudt78l/${n}`), n);
  });

  it("drops other languages, legacy converters and word dictionaries", () => {
    for (const n of [
      "fr.res",
      "sr_Latn_BA.res",
      "coll/de.res",
      "zone/yue_Hant_HK.res",
      "ibm-943_P15A-2003.cnv",
      "brkitr/cjdict.dict",
      "brkitr/thaidict.dict",
    ])
      assert.ok(!keepIcuItem(`icudt78l/${n}`), n);
  });

  it("keeps the data that is not a language's", () => {
    for (const n of [
      "supplementalData.res",
      "zoneinfo64.res",
      "metaZones.res",
      "cnvalias.icu",
      "unames.icu",
      "coll/ucadata.icu",
      "brkitr/word.brk",
      "nfkc.nrm",
      "likelySubtags.res",
    ])
      assert.ok(keepIcuItem(`icudt78l/${n}`), n);
  });
});
