// LUKS save files through cryptsetup (the runtime's): made by the first
// save, opened by the init. The password reaches cryptsetup on a pipe only:
// never in a file, an argument or the environment. Node-only: the saver
// reaches it through the port (port/node.ts); the module list is in plan/luks.ts.

import { closeSync, mkdirSync, openSync, readSync } from "node:fs";
import { run } from "./exec.js";
import { runtimeTool } from "./runtime.js";

const MAGIC = Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]);

export { LUKS_MODULES } from "../plan/luks.js";

/** Does the file start with a LUKS header? */
export function isLuks(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const b = Buffer.alloc(MAGIC.length);
    return readSync(fd, b, 0, b.length, 0) === b.length && b.equals(MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function cryptsetup(args: string[], password?: string): { status: number; out: string } {
  // cryptsetup keeps its locks here; without it, it warns on every call.
  mkdirSync("/run/cryptsetup", { recursive: true });
  const t = runtimeTool("cryptsetup");
  const r = run(t.cmd, args, { env: t.env, allowFail: true, ...(password !== undefined ? { input: password } : {}) });
  return { status: r.status, out: (r.stderr + r.stdout).trim() };
}

/**
 * LUKS2 with argon2id limited to 256 MiB of memory, so that a save made on a
 * large machine still opens on a small one (cryptsetup would take up to 1 GiB).
 */
export function luksFormat(file: string, password: string): void {
  if (password === "") throw new Error("an empty password cannot protect a save");
  const r = cryptsetup(
    [
      "luksFormat",
      "--batch-mode",
      "--type",
      "luks2",
      "--pbkdf",
      "argon2id",
      "--pbkdf-memory",
      "262144",
      "--key-file",
      "-",
      file,
    ],
    password,
  );
  if (r.status !== 0) throw new Error(`cryptsetup luksFormat ${file} failed (exit ${r.status}): ${r.out}`);
}

/** Open the container as /dev/mapper/NAME; false when the password is wrong. */
export function luksOpen(file: string, name: string, password: string): boolean {
  const r = cryptsetup(["open", "--type", "luks", "--key-file", "-", file, name], password);
  // cryptsetup: exit 2 means no key slot opened with this password.
  if (r.status === 2) return false;
  if (r.status !== 0) throw new Error(`cryptsetup open ${file} failed (exit ${r.status}): ${r.out}`);
  return true;
}

export function luksClose(name: string): void {
  const r = cryptsetup(["close", name]);
  if (r.status !== 0) throw new Error(`cryptsetup close ${name} failed (exit ${r.status}): ${r.out}`);
}
