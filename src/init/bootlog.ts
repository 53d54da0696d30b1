// The init's log: every line goes to /tmp/bootinit.log (which the running
// system sees as /initrd/tmp/bootinit.log); console() lines are also shown.

import { appendFileSync, mkdirSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Straight to fd 1, the console: process.stdout would first build a tty
 * stream (net, stream and tty modules), a tenth of a second of an emulated
 * boot. A console that cannot be written must not stop the boot: the line
 * is in the log file.
 */
function showOnConsole(line: string): void {
  try {
    writeSync(1, line + "\n");
  } catch {
    // The log file has it.
  }
}

export class BootLog {
  private readonly start = Date.now();
  /** The console's language (plang=); the log file stays English. */
  translate: (line: string) => string = (l) => l;

  constructor(
    readonly file: string,
    private readonly show: (line: string) => void = showOnConsole,
  ) {
    mkdirSync(dirname(file), { recursive: true });
  }

  private stamp(): string {
    return ((Date.now() - this.start) / 1000).toFixed(3).padStart(7);
  }

  debug(line: string): void {
    appendFileSync(this.file, `${this.stamp()} ${line}\n`);
  }

  console(line: string): void {
    this.debug(line);
    this.show(this.translate(line));
  }
}
