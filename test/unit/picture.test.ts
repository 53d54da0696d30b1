// Unit tier: the screenshot helper the VM tests judge a guest's screen with.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { inflateSync } from "node:zlib";
import { colourCount, readPpm, writePng } from "../helpers/picture.js";

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
});
