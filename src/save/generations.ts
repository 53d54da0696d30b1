// A save's generations. The layer the init stacks is SAVE/upper; with
// generations it is a symlink to .gen/NNNN. A new generation is written as
// .gen/NNNN.partial and committed by renaming it and then atomically
// replacing the symlink, so after a power cut at any moment the next boot
// sees either the old generation or the new one, whole. Older generations
// are kept for --revert and pruned to a number.

import { defaultPort } from "../port/default.js";
import { join } from "../lib/path.js";
import type { Port } from "../port/port.js";
import { step } from "./failpoint.js";

export const GEN_DIR = ".gen";
const GEN_NAME = /^\d{4,}$/;
/** A generation being written, or being removed by a prune: never whole. */
const PARTIAL = /^\d{4,}\.(partial|pruning)$/;

export interface Generation {
  number: number;
  path: string;
  current: boolean;
}

const genName = (n: number): string => String(n).padStart(4, "0");

export class SaveGenerations {
  constructor(
    readonly root: string,
    private readonly port: Port = defaultPort(),
  ) {}

  /** Flush the save's filesystem: what is renamed next must be on disk before. */
  private syncFs(): void {
    this.port.syncFs(this.root);
  }

  get upper(): string {
    return join(this.root, "upper");
  }

  private get genDir(): string {
    return join(this.root, GEN_DIR);
  }

  /** Generations on disk, oldest first. */
  list(): Generation[] {
    const cur = this.currentNumber();
    return this.port
      .list(this.genDir)
      .filter((n) => GEN_NAME.test(n))
      .map(Number)
      .sort((a, b) => a - b)
      .map((n) => ({ number: n, path: join(this.genDir, genName(n)), current: n === cur }));
  }

  /** The generation upper points to; 0 for a plain upper directory; null when there is no layer yet. */
  currentNumber(): number | null {
    const st = this.port.lstat(this.upper);
    if (!st) return null;
    if (st.kind !== "symlink") return 0;
    const m = /(?:^|\/)(\d{4,})$/.exec(this.port.readlink(this.upper) ?? "");
    return m ? Number(m[1]) : null;
  }

  /** The directory holding the current layer, or null. */
  currentPath(): string | null {
    const n = this.currentNumber();
    if (n === null) return null;
    return n === 0 ? this.upper : join(this.genDir, genName(n));
  }

  /**
   * Finish what a power cut interrupted: an unfinished generation is dropped
   * (the old one is still current), and a missing upper after a half-done
   * first commit points at the newest whole generation. Returns what it did.
   */
  recover(): string[] {
    const done: string[] = [];
    for (const n of this.port.list(this.genDir).filter((x) => PARTIAL.test(x))) {
      step();
      this.port.remove(join(this.genDir, n));
      done.push(n.endsWith(".partial") ? `dropped the unfinished generation ${n}` : `finished removing ${n}`);
    }
    if (this.port.lstat(this.upper) === null) {
      const newest = this.list().slice(-1)[0];
      if (newest) {
        this.point(newest.number);
        done.push(`upper was missing: now generation ${genName(newest.number)}`);
      }
    }
    return done;
  }

  /** A directory for the next generation, to fill and then commit. */
  begin(): { number: number; path: string } {
    step();
    this.port.mkdir(this.genDir);
    const last = Math.max(
      0,
      ...this.port
        .list(this.genDir)
        .filter((x) => GEN_NAME.test(x) || PARTIAL.test(x))
        .map((x) => parseInt(x, 10)),
    );
    const number = last + 1;
    return { number, path: join(this.genDir, `${genName(number)}.partial`) };
  }

  /** Make a filled generation the current one. */
  commit(number: number): void {
    this.syncFs();
    step();
    this.port.rename(join(this.genDir, `${genName(number)}.partial`), join(this.genDir, genName(number)));
    // A plain upper directory (no generations yet) becomes generation 0, kept like the others.
    const st = this.port.lstat(this.upper);
    step();
    if (st && st.kind !== "symlink") this.port.rename(this.upper, join(this.genDir, genName(0)));
    this.point(number);
  }

  /** Atomically point upper at a generation. */
  point(number: number): void {
    const tmp = join(this.root, ".upper.new");
    step();
    this.port.remove(tmp);
    step();
    this.port.symlink(`${GEN_DIR}/${genName(number)}`, tmp);
    this.syncFs();
    step();
    this.port.rename(tmp, this.upper);
    this.syncFs();
  }

  /** Go back to an earlier generation (it takes effect at the next boot); newer ones are kept. */
  revert(number: number): void {
    if (!this.list().some((g) => g.number === number))
      throw new Error(`there is no generation ${number} in ${this.root} (see --list)`);
    this.point(number);
  }

  /** Keep the current generation and the `keep` newest others; never remove `protect` (what the running system has mounted). */
  prune(keep: number, protect: readonly string[] = []): number[] {
    const gens = this.list();
    const others = gens.filter((g) => !g.current).reverse();
    const removed: number[] = [];
    for (const g of others.slice(keep)) {
      if (protect.includes(g.path)) continue;
      // Renamed first, so a power cut never leaves a half-removed generation that looks whole.
      step();
      this.port.rename(g.path, `${g.path}.pruning`);
      step();
      this.port.remove(`${g.path}.pruning`);
      removed.push(g.number);
    }
    return removed;
  }
}
