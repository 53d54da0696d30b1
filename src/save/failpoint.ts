// Fault injection for the saver's crash tests: every step that changes the
// save calls step(). With RAMSTACK_SAVE_CRASH_AT=N the process is killed
// (SIGKILL: no cleanup runs, as in a power cut) just before its Nth step;
// RAMSTACK_SAVE_COUNT_STEPS=FILE writes how many steps a save took.

import { writeFileSync } from "node:fs";

const crashAt = Number(process.env.RAMSTACK_SAVE_CRASH_AT ?? 0);
const countFile = process.env.RAMSTACK_SAVE_COUNT_STEPS;
let steps = 0;

export function step(): void {
  steps++;
  if (crashAt > 0 && steps === crashAt) process.kill(process.pid, "SIGKILL");
  if (countFile) writeFileSync(countFile, String(steps));
}
