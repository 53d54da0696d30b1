// The retro task's test programs, made on this machine from source with
// Debian's assemblers (setup installs them), so the tests carry no binaries
// and no game anyone holds rights to: a NES cartridge (cc65's ca65 and
// ld65) that writes RAMSTACK in white on a light blue screen, and a DOS
// program (nasm) that writes a file.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../src/sys/exec.js";

/** What the DOS program writes to RESULT.TXT in its current folder. */
export const DOS_MESSAGE = "written by a DOS program under DOSBox";

/** The NES's colours the cartridge uses (its palette indices): the backdrop, the letters, a band. */
export const NES_COLOURS = { backdrop: 0x21, letters: 0x30, band: 0x16 };

const hex = (n: number): string => `$${n.toString(16).padStart(2, "0")}`;

// 8x8 letters, one byte a row, the leftmost pixel the high bit.
const GLYPHS: Record<string, number[]> = {
  R: [0xf8, 0x84, 0x84, 0xf8, 0x90, 0x88, 0x84, 0x00],
  A: [0x30, 0x48, 0x84, 0x84, 0xfc, 0x84, 0x84, 0x00],
  M: [0x84, 0xcc, 0xb4, 0x84, 0x84, 0x84, 0x84, 0x00],
  S: [0x7c, 0x80, 0x80, 0x78, 0x04, 0x04, 0xf8, 0x00],
  T: [0xfe, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x00],
  C: [0x7c, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7c, 0x00],
  K: [0x84, 0x88, 0x90, 0xe0, 0x90, 0x88, 0x84, 0x00],
};
const LETTERS = Object.keys(GLYPHS);
/** Tile 0 is blank, 1.. the letters, then a solid tile in colour 3. */
const SOLID = LETTERS.length + 1;

/** A tile: its first bit plane, then its second. */
const tile = (plane0: number[], plane1: number[]): string => `.byte ${[...plane0, ...plane1].map(hex).join(", ")}`;

function nesSource(): string {
  const text = [..."RAMSTACK"].map((c) => LETTERS.indexOf(c) + 1);
  const { backdrop, letters, band } = NES_COLOURS;
  return `; ramstack's retro test cartridge: NROM, 16 KiB of program, 8 KiB of tiles.
.segment "HEADER"
  .byte "NES", $1a, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
.segment "CODE"
reset:
  sei
  cld
  ldx #$40
  stx $4017
  ldx #$ff
  txs
  inx
  stx $2000
  stx $2001
  stx $4010
  bit $2002
: bit $2002        ; two frames: the picture unit is ready
  bpl :-
: bit $2002
  bpl :-
  lda #$3f         ; the palette
  sta $2006
  lda #$00
  sta $2006
  ldx #0
: lda palette,x
  sta $2007
  inx
  cpx #32
  bne :-
  lda #$20         ; the first name table and its attributes: blank
  sta $2006
  lda #$00
  sta $2006
  ldy #4
  ldx #0
: sta $2007
  inx
  bne :-
  dey
  bne :-
  lda #$21         ; a band across rows 12 and 13
  sta $2006
  lda #$80
  sta $2006
  lda #${SOLID}
  ldx #64
: sta $2007
  dex
  bne :-
  lda #$21         ; the word, row 15, column 12
  sta $2006
  lda #$ec
  sta $2006
  ldx #0
: lda text,x
  beq :+
  sta $2007
  inx
  bne :-
: lda #0
  sta $2005
  sta $2005
  lda #%00001010   ; the background, its left column too
  sta $2001
forever:
  jmp forever
nmi:
  rti
palette:
  .byte ${hex(backdrop)}, ${hex(letters)}, ${hex(band)}, ${hex(band)}
  .res 28, ${hex(backdrop)}
text:
  .byte ${text.join(", ")}, 0
.segment "VECTORS"
  .word nmi, reset, nmi
.segment "CHARS"
  ${tile(new Array<number>(8).fill(0), new Array<number>(8).fill(0))}
${LETTERS.map((l) => `  ${tile(GLYPHS[l]!, new Array<number>(8).fill(0))}`).join("\n")}
  ${tile(new Array<number>(8).fill(0xff), new Array<number>(8).fill(0xff))}
`;
}

const NES_LAYOUT = `MEMORY {
  HDR: start = $0000, size = $0010, fill = yes, file = %O;
  PRG: start = $c000, size = $4000, fill = yes, file = %O;
  CHR: start = $0000, size = $2000, fill = yes, file = %O;
}
SEGMENTS {
  HEADER:  load = HDR, type = ro;
  CODE:    load = PRG, type = ro, start = $c000;
  VECTORS: load = PRG, type = ro, start = $fffa;
  CHARS:   load = CHR, type = ro;
}
`;

/** The NES cartridge (an iNES file), made in DIR. */
export function buildNesRom(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "ramstack.s"), nesSource());
  writeFileSync(join(dir, "nrom.cfg"), NES_LAYOUT);
  run("ca65", ["-o", join(dir, "ramstack.o"), join(dir, "ramstack.s")]);
  const rom = join(dir, "ramstack.nes");
  run("ld65", ["-C", join(dir, "nrom.cfg"), "-o", rom, join(dir, "ramstack.o")]);
  return rom;
}

const DOS_SOURCE = `; A DOS program (.COM): writes RESULT.TXT, then exits with 0 (1 if DOS refused).
org 100h
  mov ah, 3ch          ; create
  xor cx, cx
  mov dx, name
  int 21h
  jc failed
  mov bx, ax
  mov ah, 40h          ; write
  mov cx, length
  mov dx, message
  int 21h
  jc failed
  mov ah, 3eh          ; close
  int 21h
  mov ax, 4c00h
  int 21h
failed:
  mov ax, 4c01h
  int 21h
name db "RESULT.TXT", 0
message db "${DOS_MESSAGE}", 13, 10
length equ $ - message
`;

/** The DOS program (WRITE.COM), made in DIR. */
export function buildDosProgram(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "write.asm"), DOS_SOURCE);
  const com = join(dir, "WRITE.COM");
  run("nasm", ["-f", "bin", "-o", com, join(dir, "write.asm")]);
  return com;
}
