// Fault injection for the saver's crash tests: every step that changes the
// save calls step(). With RAMSTACK_SAVE_CRASH_AT=N the process is killed
// (SIGKILL: no cleanup runs, as in a power cut) just before its Nth step;
// RAMSTACK_SAVE_COUNT_STEPS=FILE writes how many steps a save took.

import { defaultPort } from "../port/default.js";
import type { Port } from "../port/port.js";

let port: Port | undefined;
let crashAt = 0;
let countFile: string | undefined;
let steps = 0;

/** The port the fault injection reads its settings from and acts through (default: Node.js's, at the first step). */
export function useFailpointPort(p: Port): void {
  port = p;
  crashAt = Number(p.env("RAMSTACK_SAVE_CRASH_AT") ?? 0);
  countFile = p.env("RAMSTACK_SAVE_COUNT_STEPS");
}

export function step(): void {
  if (!port) useFailpointPort(defaultPort());
  steps++;
  if (crashAt > 0 && steps === crashAt) port!.kill(port!.pid(), "SIGKILL");
  if (countFile) port!.writeText(countFile, String(steps));
}
