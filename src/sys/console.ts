// A question on the console with a time limit, for the init (PID 1, whose
// stdin is the console) and for the shutdown path. busybox sh's `read -t`
// does the waiting; no answer in time gives null. Node-only: reached
// through the port's ask (port/node.ts).

import { existsSync } from "node:fs";
import { run } from "./exec.js";

/** A shell whose read has -t: busybox's where it is (Debian's /bin/sh, dash, has no -t). */
const READ_SHELL: [string, ...string[]] = existsSync("/bin/busybox") ? ["/bin/busybox", "sh"] : ["sh"];

export interface AskOptions {
  /** Do not echo what is typed (passwords). */
  silent?: boolean;
  /** The terminal to ask on; /dev/console by default, /dev/tty for a command run in a terminal. */
  device?: string;
}

export function askOnConsole(question: string, timeoutSec: number, o: AskOptions = {}): string | null {
  const dev = o.device ?? "/dev/console";
  // Silent: echo goes off before the prompt shows, so nothing typed after it is echoed; and back on after.
  const script = o.silent
    ? `stty -echo < "$3"; printf "%s" "$1" > "$3"; IFS= read -t "$2" -r answer < "$3"; s=$?; stty echo < "$3"; echo > "$3"; [ $s = 0 ] || exit 1; printf "%s" "$answer"`
    : `printf "%s" "$1" > "$3"; read -t "$2" -r answer < "$3" || exit 1; printf "%s" "$answer"`;
  const r = run(READ_SHELL[0], [...READ_SHELL.slice(1), "-c", script, "sh", question, String(timeoutSec), dev], {
    allowFail: true,
  });
  if (r.status !== 0) {
    // End the prompt's line (a silent read has done so already).
    if (!o.silent) run("sh", ["-c", 'echo > "$1"', "sh", dev], { allowFail: true });
    return null;
  }
  // A password is kept as typed: spaces can be part of it.
  return o.silent ? r.stdout : r.stdout.trim();
}
