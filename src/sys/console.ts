// A question on the console with a time limit, for the init (PID 1, whose
// stdin is the console) and for the shutdown path. busybox sh's `read -t`
// does the waiting; no answer in time gives null.

import { run } from "./exec.js";

export function askOnConsole(question: string, timeoutSec: number): string | null {
  const r = run("sh", ["-c", 'printf "%s" "$1" > /dev/console; read -t "$2" -r answer < /dev/console || exit 1; printf "%s" "$answer"', "sh", question, String(timeoutSec)], { allowFail: true });
  if (r.status !== 0) {
    run("sh", ["-c", "echo > /dev/console"], { allowFail: true });
    return null;
  }
  return r.stdout.trim();
}
