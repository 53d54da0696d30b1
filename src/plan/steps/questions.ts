// Questions the boot may ask; each has a timeout so that an unattended boot
// always finishes.

import type { Question } from "../types.js";

/** Prompts time out so that an unattended boot always finishes. */
export const PROMPT_TIMEOUT_SEC = 30;

/** A save of another version: use it (with the upgrade clean-up) or boot in RAM. */
export function upgradeQuestion(reason: string): Question {
  return {
    id: "upgrade",
    prompt: `${reason}. Use it anyway? Old system files in it will be cleaned up.`,
    options: [
      { value: "yes", label: "yes, use it" },
      { value: "no", label: "no, boot in RAM and leave it alone" },
    ],
    default: "no",
    timeoutSec: PROMPT_TIMEOUT_SEC,
  };
}

/** Several saves: which one, or none. */
export function saveChoiceQuestion(paths: string[]): Question {
  return {
    id: "save-choice",
    prompt: `${paths.length} saves found. Which one?`,
    options: [
      { value: "0", label: "none: boot without a save" },
      ...paths.map((p, i) => ({ value: String(i + 1), label: p })),
    ],
    default: "0",
    timeoutSec: PROMPT_TIMEOUT_SEC,
  };
}
