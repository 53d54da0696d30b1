// A guest's screen as QEMU's screendump writes it (binary PPM): its pixels,
// how many colours it has (a blank or one-colour screen has one or two), and
// the same picture as a PNG, kept as a test's artifact.

import { readFileSync, writeFileSync } from "node:fs";
import { crc32, deflateSync } from "node:zlib";

export interface Picture {
  width: number;
  height: number;
  /** RGB, 3 bytes a pixel, row after row. */
  rgb: Buffer;
}

/** A binary PPM (P6, 8 bits a channel). */
export function readPpm(file: string): Picture {
  const data = readFileSync(file);
  // The header: P6, width, height, maximum value, separated by white space; one white-space byte before the pixels.
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 4) {
    while (i < data.length && /\s/.test(String.fromCharCode(data[i]!))) i++;
    const start = i;
    while (i < data.length && !/\s/.test(String.fromCharCode(data[i]!))) i++;
    fields.push(data.subarray(start, i).toString("latin1"));
  }
  const [magic, w, h, max] = fields;
  if (magic !== "P6" || max !== "255") throw new Error(`${file}: not an 8-bit binary PPM (${magic}, max ${max})`);
  const width = Number(w);
  const height = Number(h);
  const rgb = data.subarray(i + 1, i + 1 + width * height * 3);
  if (rgb.length !== width * height * 3)
    throw new Error(`${file}: ${rgb.length} bytes of pixels for ${width}x${height}`);
  return { width, height, rgb };
}

/** How many different colours the picture has. */
export function colourCount(p: Picture): number {
  const seen = new Set<number>();
  for (let i = 0; i < p.rgb.length; i += 3) seen.add((p.rgb[i]! << 16) | (p.rgb[i + 1]! << 8) | p.rgb[i + 2]!);
  return seen.size;
}

/** The picture as a PNG file (8-bit RGB, no filter). */
export function writePng(p: Picture, file: string): void {
  const chunk = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, "latin1");
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(p.width, 0);
  ihdr.writeUInt32BE(p.height, 4);
  ihdr[8] = 8; // bits a channel
  ihdr[9] = 2; // RGB
  const row = p.width * 3;
  const raw = Buffer.alloc((row + 1) * p.height);
  for (let y = 0; y < p.height; y++) p.rgb.copy(raw, y * (row + 1) + 1, y * row, (y + 1) * row);
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk("IHDR", ihdr),
      chunk("IDAT", deflateSync(raw, { level: 9 })),
      chunk("IEND", Buffer.alloc(0)),
    ]),
  );
}
