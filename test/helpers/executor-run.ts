// The init's executor on the recording fake, for the host tier on either
// engine: a plan's boot steps run against RecordingPort, whose fake root's
// files are kept through a real port (Node.js's in node:test, QuickJS's in
// the engine's harness, test/engine/executor.ts).

import { BootLog } from "../../src/init/bootlog.js";
import type { Hooks, Outcome } from "../../src/init/execute.js";
import { newOutcome, runSteps } from "../../src/init/execute.js";
import { bootSteps } from "../../src/init/ops.js";
import { System } from "../../src/init/system.js";
import { dirname, join } from "../../src/lib/path.js";
import { formatVars } from "../../src/plan/handover.js";
import type { Plan } from "../../src/plan/types.js";
import { defaultPort } from "../../src/port/default.js";
import type { Port } from "../../src/port/port.js";
import type { RecordingOptions } from "../../src/port/recording.js";
import { RecordingPort } from "../../src/port/recording.js";

export interface Run {
  calls: string[];
  outcome: Outcome;
  error: Error | null;
  port: RecordingPort;
  root: string;
}

export type ExecuteOptions = {
  /** Made under the fake's root first: a path ending in / is a directory, "-> T" a symlink to T. */
  files?: Record<string, string>;
  /** Partitions the planner's reads mounted, at /mnt/NAME. */
  mounts?: string[];
  hooks?: Partial<Hooks>;
} & Partial<Omit<RecordingOptions, "root" | "mounts" | "host">>;

/** Every fake root made, for the caller to remove. */
export const roots: string[] = [];
let made = 0;

/** Run a plan's boot steps against the fake. */
export function execute(p: Plan, o: ExecuteOptions = {}, host: Port = defaultPort()): Run {
  const { files, mounts: names, hooks: given, ...options } = o;
  const root = `/tmp/ramstack-exec-${host.pid()}-${made++}`;
  host.remove(root);
  host.mkdir(root);
  roots.push(root);
  for (const [path, content] of Object.entries({ "/tmp/": "", ...files })) {
    const full = join(root, path);
    if (path.endsWith("/")) host.mkdir(full);
    else {
      host.mkdir(dirname(full));
      if (content.startsWith("-> ")) host.symlink(content.slice(3), full);
      else host.writeText(full, content);
    }
  }
  const mounts = (names ?? []).map((name) => ({
    source: `/dev/${name}`,
    target: `/mnt/${name}`,
    fstype: "ext4",
    options: "rw",
  }));
  const port = new RecordingPort({ ...options, root, mounts, host });
  const log = new BootLog(port, "/tmp/bootinit.log");
  const hooks: Hooks = { password: () => null, checkUnlockedSave: () => ({ use: true, upgrade: p.upgrade }), ...given };
  const outcome = newOutcome();
  let error: Error | null = null;
  try {
    runSteps({ sys: new System(port, log), port, log, hooks, plan: p, outcome }, bootSteps(p, formatVars));
  } catch (e) {
    error = e as Error;
  }
  return { calls: port.calls, outcome, error, port, root };
}

/** The calls that act on mounts, modules and containers (file writes left out), for the shorter checks. */
export const machineCalls = (r: Run): string[] =>
  r.calls.filter((c) => /^(mount|umount|modprobe|cryptsetup|e2fsck|tar|cp|mknod) /.test(c));

/** What the engines' runs are compared by: every call, every console line, the outcome, the error. */
export function runRecord(r: Run): { calls: string[]; said: string[]; outcome: Outcome; error: string | null } {
  return { calls: r.calls, said: r.port.said, outcome: r.outcome, error: r.error ? r.error.message : null };
}
