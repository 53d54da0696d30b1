// One digest for build keys, image identifiers and lock names.

import { createHash } from "node:crypto";

/** SHA-256 of text or bytes, as hex. */
export const sha256 = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");
