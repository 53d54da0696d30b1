// LUKS save files through cryptsetup (the runtime's): made by the first
// save, opened by the init. The password reaches cryptsetup on a pipe only:
// never in a file, an argument or the environment. Node-only: the saver
// reaches it through the port (port/node.ts); the module list is in plan/luks.ts.

import { mkdirSync } from "node:fs";
import { run } from "./exec.js";
import { runtimeTool } from "./runtime.js";
import { CRYPTSETUP_LOCK_DIR, LUKS_WRONG_PASSWORD, luksFormatArgs, luksOpenArgs } from "../port/commands.js";

function cryptsetup(args: string[], password?: string): { status: number; out: string } {
  mkdirSync(CRYPTSETUP_LOCK_DIR, { recursive: true });
  const t = runtimeTool("cryptsetup");
  const r = run(t.cmd, [...t.args, ...args], {
    allowFail: true,
    ...(password !== undefined ? { input: password } : {}),
  });
  return { status: r.status, out: (r.stderr + r.stdout).trim() };
}

export function luksFormat(file: string, password: string): void {
  if (password === "") throw new Error("an empty password cannot protect a save");
  const r = cryptsetup(luksFormatArgs(file), password);
  if (r.status !== 0) throw new Error(`cryptsetup luksFormat ${file} failed (exit ${r.status}): ${r.out}`);
}

/** Open the container as /dev/mapper/NAME; false when the password is wrong. */
export function luksOpen(file: string, name: string, password: string): boolean {
  const r = cryptsetup(luksOpenArgs(file, name), password);
  if (r.status === LUKS_WRONG_PASSWORD) return false;
  if (r.status !== 0) throw new Error(`cryptsetup open ${file} failed (exit ${r.status}): ${r.out}`);
  return true;
}

export function luksClose(name: string): void {
  const r = cryptsetup(["close", name]);
  if (r.status !== 0) throw new Error(`cryptsetup close ${name} failed (exit ${r.status}): ${r.out}`);
}
