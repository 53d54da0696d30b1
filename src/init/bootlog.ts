// The init's log: every line goes to /tmp/bootinit.log (which the running
// system sees as /initrd/tmp/bootinit.log); console() lines are also shown.

import type { Port } from "../port/port.js";

export class BootLog {
  private readonly start: number;
  /** The console's language (plang=); the log file stays English. */
  translate: (line: string) => string = (l) => l;

  constructor(
    private readonly port: Port,
    readonly file: string,
  ) {
    this.start = port.now();
    port.mkdir(file.slice(0, file.lastIndexOf("/")) || "/");
  }

  private stamp(): string {
    return ((this.port.now() - this.start) / 1000).toFixed(3).padStart(7);
  }

  debug(line: string): void {
    this.port.appendText(this.file, `${this.stamp()} ${line}\n`);
  }

  console(line: string): void {
    this.debug(line);
    this.port.say(this.translate(line));
  }
}
