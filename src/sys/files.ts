// Reading files that may not be there (sysfs attributes, spec files): their
// absence is an answer, not an error.

import { readFileSync } from "node:fs";

/** A file's text, or undefined when it cannot be read. */
export function readTextIfAny(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
