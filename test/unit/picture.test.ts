// Unit tier: the screenshot helper the VM tests judge a guest's screen with.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { deflateSync, inflateSync } from "node:zlib";
import { colourCount, pngChunk, readPng, readPpm, writePng } from "../helpers/picture.js";

describe("screenshots", () => {
  const dir = mkdtempSync(join(tmpdir(), "ramstack-picture-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // 3x2: red, red, green / blue, red, green; a comment-free header as QEMU writes it.
  const pixels = Buffer.from([255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 0, 0, 0, 255, 0]);
  const ppm = join(dir, "screen.ppm");
  writeFileSync(ppm, Buffer.concat([Buffer.from("P6\n3 2\n255\n", "latin1"), pixels]));

  it("reads QEMU's PPM and counts its colours", () => {
    const p = readPpm(ppm);
    assert.deepEqual([p.width, p.height], [3, 2]);
    assert.deepEqual(p.rgb, pixels);
    assert.equal(colourCount(p), 3);
  });

  it("refuses what is not an 8-bit binary PPM, and a short one", () => {
    const bad = join(dir, "bad.ppm");
    writeFileSync(bad, "P3\n1 1\n255\n0 0 0\n");
    assert.throws(() => readPpm(bad), /not an 8-bit binary PPM/);
    writeFileSync(bad, Buffer.concat([Buffer.from("P6\n3 2\n255\n", "latin1"), pixels.subarray(0, 10)]));
    assert.throws(() => readPpm(bad), /10 bytes of pixels for 3x2/);
  });

  it("writes the same pixels as a PNG", () => {
    const png = join(dir, "screen.png");
    writePng(readPpm(ppm), png);
    const data = readFileSync(png);
    assert.deepEqual([...data.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(data.subarray(12, 16).toString("latin1"), "IHDR");
    assert.deepEqual([data.readUInt32BE(16), data.readUInt32BE(20), data[24], data[25]], [3, 2, 8, 2]);
    const idatAt = data.indexOf("IDAT", 0, "latin1");
    const raw = inflateSync(data.subarray(idatAt + 4, idatAt + 4 + data.readUInt32BE(idatAt - 4)));
    // Each row: filter type 0, then its pixels.
    assert.deepEqual(
      raw,
      Buffer.concat([Buffer.from([0]), pixels.subarray(0, 9), Buffer.from([0]), pixels.subarray(9)]),
    );
  });

  it("reads back the PNG it writes", () => {
    const png = join(dir, "again.png");
    writePng(readPpm(ppm), png);
    assert.deepEqual(readPng(png), readPpm(ppm));
  });

  it("reads an RGBA PNG whose rows use each of the five filters, as programs write them", () => {
    // 2x5 RGBA; row y is filtered with type y.
    const width = 2;
    const rows = [0, 1, 2, 3, 4].map((y) =>
      Buffer.from([10 * y, 200 - y, 7 + y * y, 255, 250 - 3 * y, 30 + y, 99, 128]),
    );
    const paeth = (a: number, b: number, c: number): number => {
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    };
    const raw = Buffer.concat(
      rows.map((row, y) => {
        const up = y ? rows[y - 1]! : Buffer.alloc(row.length);
        const out = Buffer.alloc(row.length + 1);
        out[0] = y;
        for (let x = 0; x < row.length; x++) {
          const a = x >= 4 ? row[x - 4]! : 0;
          const c = x >= 4 ? up[x - 4]! : 0;
          const predicted = [0, a, up[x]!, (a + up[x]!) >> 1, paeth(a, up[x]!, c)][y]!;
          out[x + 1] = (row[x]! - predicted) & 0xff;
        }
        return out;
      }),
    );
    const ihdr = Buffer.from([0, 0, 0, width, 0, 0, 0, 5, 8, 6, 0, 0, 0]);
    const png = join(dir, "filters.png");
    writeFileSync(
      png,
      Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        pngChunk("IHDR", ihdr),
        pngChunk("IDAT", deflateSync(raw)),
        pngChunk("IEND", Buffer.alloc(0)),
      ]),
    );
    const p = readPng(png);
    assert.deepEqual([p.width, p.height], [2, 5]);
    // Alpha dropped: RGB of each pixel.
    const rgb = Buffer.concat(rows.map((r) => Buffer.from([r[0]!, r[1]!, r[2]!, r[4]!, r[5]!, r[6]!])));
    assert.deepEqual(p.rgb, rgb);
    writeFileSync(png, Buffer.from("not a png at all"));
    assert.throws(() => readPng(png), /not a PNG/);
  });
});
