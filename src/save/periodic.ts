// Periodic saves (Puppy's RAMSAVEINTERVAL, in minutes, in /etc/eventmanager):
// in flash mode (13) and with an archive save (66) the session is saved
// every interval. The interval is read again at each tick, so changing
// /etc/eventmanager takes effect without a restart; 0 pauses it.

import { defaultPort } from "../port/default.js";
import { join } from "../lib/path.js";
import { pupmodeFacts } from "../plan/layout.js";
import { parseShellVars } from "../plan/shellvars.js";
import type { Port } from "../port/port.js";
import { readPupstate, saveLock, SAVE_LOCK } from "./running.js";
import { runningArchive, runningTarget, saveArchiveSession, saveSession } from "./session.js";

/** "90s", "30m", "2h", or a bare number of minutes (Puppy's unit); seconds. */
export function parseInterval(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  return n * ({ s: 1, m: 60, h: 3600, "": 60 } as const)[m[2] as "s" | "m" | "h" | ""];
}

/** Puppy's /etc/eventmanager as variables (none when it is missing). */
export function eventManagerVars(root = "/", port: Port = defaultPort()): Map<string, string> {
  const text = port.readText(join(root, "etc/eventmanager"));
  return text !== undefined ? parseShellVars(text).vars : new Map<string, string>();
}

/** RAMSAVEINTERVAL (minutes) in seconds; 0: off. */
export function saveInterval(vars: Map<string, string>): number {
  return parseInterval(vars.get("RAMSAVEINTERVAL") ?? "0") ?? 0;
}

export interface PeriodicOptions {
  /** Fixed interval in seconds; otherwise RAMSAVEINTERVAL, read at each tick. */
  everySec?: number;
  say: (line: string) => void;
  /** Stop after this many saves (for a bounded run); forever by default. */
  maxSaves?: number;
  root?: string;
  port?: Port;
}

/** With RAMSAVEINTERVAL=0, look again this often. */
const IDLE_CHECK_SEC = 60;

/** One save of whatever kind this session has; a failure is reported and the next tick tries again. */
function saveOnce(root: string, say: (l: string) => void, port: Port): boolean {
  try {
    const archive = runningArchive(root, port);
    if (archive) {
      const r = saveArchiveSession(archive, { lock: SAVE_LOCK, root }, port);
      say(`saved ${archive.part}:${archive.path} (${r.members} entries) in ${r.seconds.toFixed(1)} s`);
      return true;
    }
    const t = runningTarget(root, port);
    if ("nothing" in t) return false;
    const r = saveSession(t, { keep: 3, lock: saveLock(t.save, port) }, port);
    say(
      `saved generation ${r.generation} in ${r.seconds.toFixed(1)} s: ${r.stats.files} files written, ${r.stats.deleted} deleted`,
    );
    return true;
  } catch (e) {
    say(`this save did not happen: ${(e as Error).message}`);
    return true;
  }
}

export async function runPeriodic(o: PeriodicOptions): Promise<number> {
  const root = o.root ?? "/";
  const port = o.port ?? defaultPort();
  const mode = readPupstate(root, port).pupmode;
  const f = pupmodeFacts(mode);
  if (!f.flash && !f.archive) {
    o.say(
      `PUPMODE ${mode}: nothing to save periodically (only flash mode, 13, and archive saves, 66, keep the session in RAM)`,
    );
    return 0;
  }
  // A daemon: the terminal that started it going away is no reason to stop saving.
  port.ignoreHangup();
  o.say(
    `periodic saves in PUPMODE ${mode}: ${o.everySec !== undefined ? `every ${o.everySec} s` : "every RAMSAVEINTERVAL minutes (/etc/eventmanager)"}`,
  );
  let saves = 0;
  for (;;) {
    const every = o.everySec ?? saveInterval(eventManagerVars(root, port));
    if (every <= 0) {
      await port.sleep(IDLE_CHECK_SEC * 1000);
      continue;
    }
    await port.sleep(every * 1000);
    if (!saveOnce(root, o.say, port)) return 0;
    saves++;
    if (o.maxSaves !== undefined && saves >= o.maxSaves) return 0;
  }
}
