// A guest's screen as QEMU's screendump writes it (binary PPM) or a program
// saved it (PNG, as RetroArch's screenshots are): its pixels,
// how many colours it has (a blank or one-colour screen has one or two), and
// the same picture as a PNG, kept as a test's artifact.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { crc32, deflateSync, inflateSync } from "node:zlib";
import type { Vm } from "../../src/vm/qemu.js";

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

/** One chunk of a PNG file: its length, type, body and CRC. */
export function pngChunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
}

/** The picture as a PNG file (8-bit RGB, no filter). */
export function writePng(p: Picture, file: string): void {
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
      pngChunk("IHDR", ihdr),
      pngChunk("IDAT", deflateSync(raw, { level: 9 })),
      pngChunk("IEND", Buffer.alloc(0)),
    ]),
  );
}

/** The byte a PNG filter predicts from: left, above, or Paeth of both. */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** A PNG of 8-bit RGB or RGBA, not interlaced (what RetroArch writes); alpha is dropped. */
export function readPng(file: string): Picture {
  const data = readFileSync(file);
  if (data.readUInt32BE(0) !== 0x89504e47) throw new Error(`${file}: not a PNG`);
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < data.length;) {
    const length = data.readUInt32BE(at);
    const type = data.toString("latin1", at + 4, at + 8);
    const body = data.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, colour, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      channels = colour === 2 ? 3 : colour === 6 ? 4 : 0;
      if (depth !== 8 || !channels || interlace !== 0)
        throw new Error(
          `${file}: a PNG of ${depth}-bit colour type ${colour} (interlace ${interlace}) is not read here`,
        );
    } else if (type === "IDAT") idat.push(body);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const prev = Buffer.alloc(stride);
  const cur = Buffer.alloc(stride);
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const line = raw.subarray(y * (stride + 1), (y + 1) * (stride + 1));
    const filter = line[0];
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? cur[x - channels]! : 0;
      const b = prev[x]!;
      const c = x >= channels ? prev[x - channels]! : 0;
      const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter!];
      if (predicted === undefined) throw new Error(`${file}: row ${y} has filter ${filter}`);
      cur[x] = (line[x + 1]! + predicted) & 0xff;
    }
    for (let x = 0; x < width; x++) cur.copy(rgb, (y * width + x) * 3, x * channels, x * channels + 3);
    cur.copy(prev);
  }
  return { width, height, rgb };
}

/**
 * The guest's screen, taken every 5 s until LOOKS_RIGHT says it is what the
 * test waits for or MS have passed; the last one is kept as ARTIFACT (a PNG).
 */
export async function screenUntil(
  vm: Vm,
  looksRight: (p: Picture) => boolean,
  ms: number,
  artifact: string,
): Promise<Picture> {
  const ppm = join(mkdtempSync(join(tmpdir(), "ramstack-screen-")), "screen.ppm");
  const deadline = Date.now() + ms;
  let picture: Picture;
  do {
    await vm.screendump(ppm);
    picture = readPpm(ppm);
    if (looksRight(picture)) break;
    await new Promise((resolve) => setTimeout(resolve, 5000));
  } while (Date.now() < deadline);
  rmSync(dirname(ppm), { recursive: true, force: true });
  mkdirSync(dirname(artifact), { recursive: true });
  writePng(picture, artifact);
  return picture;
}
