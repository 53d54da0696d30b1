// The init's log: every line goes to /tmp/bootinit.log (which the running
// system sees as /initrd/tmp/bootinit.log); console() lines are also shown.

import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

export class BootLog {
  private readonly start = Date.now();
  /** The console's language (plang=); the log file stays English. */
  translate: (line: string) => string = (l) => l;

  constructor(
    readonly file: string,
    private readonly show: (line: string) => void = (l) => process.stdout.write(l + "\n"),
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
