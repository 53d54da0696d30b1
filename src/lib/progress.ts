// Progress on long work: a bar redrawn in place on a terminal, a plain line
// at each tenth otherwise (a log, a pipe, a serial console), nothing when the
// command's output is JSON. Written on stderr by the caller's writer, so it
// never mixes with what a command prints on stdout.

/** Where progress goes: a terminal gets a bar; anything else gets lines. */
export interface ProgressOut {
  terminal: boolean;
  write(text: string): void;
}

export interface Progress {
  /** DONE of TOTAL (any unit); DETAIL is shown beside the percentage. */
  update(done: number, total: number, detail?: string): void;
  /** A line of its own (a step of the work that has no percentage). */
  note(text: string): void;
  /** The work is over: the bar's line is finished (the next update starts again). */
  end(detail?: string): void;
}

const BAR = 24;
/** A terminal is redrawn at most this often. */
const REDRAW_MS = 100;

export const NO_PROGRESS: Progress = { update: () => undefined, note: () => undefined, end: () => undefined };

/** Progress of one piece of work called LABEL; null writes nothing (--json). */
export function progress(out: ProgressOut | null, label: string, now: () => number = Date.now): Progress {
  if (!out) return NO_PROGRESS;
  return out.terminal ? new TerminalBar(out, label, now) : new TenthLines(out, label);
}

/** Lines through a function that prints one line (the shutdown's console messages). */
export function lineProgress(say: (line: string) => void): ProgressOut {
  return { terminal: false, write: (t) => say(t.replace(/\n$/, "")) };
}

export function percent(done: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.max(0, Math.min(100, Math.floor((done * 100) / total)));
}

class TerminalBar implements Progress {
  private drawn = -Infinity;
  private shown = "";
  private width = 0;
  private open = false;
  constructor(
    private readonly out: ProgressOut,
    private readonly label: string,
    private readonly now: () => number,
  ) {}

  update(done: number, total: number, detail = ""): void {
    const pct = percent(done, total);
    const text = `${this.label} [${"#".repeat(Math.round((pct * BAR) / 100)).padEnd(BAR, ".")}] ${String(pct).padStart(3)}%${detail ? ` ${detail}` : ""}`;
    if (text === this.shown) return;
    const t = this.now();
    if (pct < 100 && t - this.drawn < REDRAW_MS) return;
    this.draw(text);
    this.drawn = t;
  }

  note(text: string): void {
    this.clear();
    this.out.write(`${this.label}: ${text}\n`);
    if (this.shown) this.draw(this.shown);
  }

  end(detail?: string): void {
    if (detail !== undefined) this.draw(`${this.label}: done${detail ? `, ${detail}` : ""}`);
    if (this.open) this.out.write("\n");
    this.open = false;
    this.shown = "";
  }

  private draw(text: string): void {
    // Spaces rub out what a longer line left behind.
    this.out.write(`\r${text}${" ".repeat(Math.max(0, this.width - text.length))}`);
    this.width = text.length;
    this.shown = text;
    this.open = true;
  }

  private clear(): void {
    if (this.open) this.out.write(`\r${" ".repeat(this.width)}\r`);
    this.open = false;
  }
}

class TenthLines implements Progress {
  private tenth = -1;
  constructor(
    private readonly out: ProgressOut,
    private readonly label: string,
  ) {}

  update(done: number, total: number, detail = ""): void {
    const t = Math.floor(percent(done, total) / 10);
    if (t <= this.tenth) return;
    this.tenth = t;
    this.out.write(`${this.label}: ${t * 10}%${detail ? ` ${detail}` : ""}\n`);
  }

  note(text: string): void {
    this.out.write(`${this.label}: ${text}\n`);
  }

  end(detail?: string): void {
    if (detail !== undefined) this.out.write(`${this.label}: done${detail ? `, ${detail}` : ""}\n`);
    this.tenth = -1;
  }
}
