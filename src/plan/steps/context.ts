// What every planning step shares: the input, the decision log, the IDs the
// boot is still waiting for, and the one way a step stops the boot.

import type { IdMatch, Part } from "../devices.js";
import { describePart, resolveId } from "../devices.js";
import { DecisionLog } from "../log.js";
import type { Machine, MachineDisk, MachinePartition } from "../machine.js";
import type { FileTree } from "../tree.js";
import { normalizePath } from "../tree.js";

export interface Answers {
  /** Index chosen in the several-saves menu ("0" = none). */
  saveChoice?: string;
  /** Use a save made by another version: "yes" or "no". */
  upgrade?: string;
  /** The encrypted save was opened: its files can be read now. */
  saveUnlocked?: boolean;
}

export interface PlanInput {
  machine: Machine;
  cmdline: string;
  answers?: Answers;
  /** How to read a partition's files; defaults to the machine file's `files`. */
  treeFor?: (p: MachinePartition, d: MachineDisk) => FileTree;
}

/** The planner's records: why (the log) and what is still missing (waiting for devices may help). */
export interface Ctx {
  readonly machine: Machine;
  readonly answers: Answers;
  readonly log: DecisionLog;
  readonly pending: string[];
}

export function newContext(input: PlanInput): Ctx {
  return { machine: input.machine, answers: input.answers ?? {}, log: new DecisionLog(), pending: [] };
}

/** Thrown by fatal(): the boot stops at a shell; run() builds the fatal plan. */
export class Fatal extends Error {}

export function fatal(ctx: Ctx, topic: string, message: string): never {
  ctx.log.error(topic, message);
  throw new Fatal(message);
}

/** A boot parameter or spec file naming a partition, and what to say when it names none. */
export interface NamedPart {
  topic: string;
  id: string;
  /** What named it, e.g. `psave=sdb1:/x/`; prefixes the messages. */
  given?: string;
  /** The message for an ID that matches nothing (default: `no partition ID`). */
  missing?: string;
  /** What the boot does instead, e.g. "booting without it"; none means the boot stops. */
  otherwise?: string;
}

/**
 * The partition an ID names. One that matches nothing is waited for
 * (pending) and, like one that matches several, stops the boot or is logged
 * with what the boot does instead.
 */
export function namedPart(ctx: Ctx, parts: readonly Part[], n: NamedPart): Part | null {
  const r = resolveId(n.id, parts);
  if (r.kind === "found") {
    ctx.log.info(n.topic, `${n.id} is ${describePart(r.part)} (by ${r.how})`);
    return r.part;
  }
  if (r.kind === "missing") ctx.pending.push(n.id);
  const problem = r.kind === "missing" ? (n.missing ?? `no partition ${n.id}`) : ambiguous(r, n.id);
  const message = `${n.given ? `${n.given}: ` : ""}${problem}`;
  if (n.otherwise === undefined) fatal(ctx, n.topic, message);
  ctx.log.warn(n.topic, `${message}; ${n.otherwise}`);
  return null;
}

function ambiguous(r: Extract<IdMatch, { kind: "ambiguous" }>, id: string): string {
  return `'${id}' matches more than one partition by ${r.how}: ${r.candidates.map(describePart).join(" and ")}; give more of it, or the device name`;
}

/** Partitions searched when no ID is given; pmedia=usb* really restricts. */
export function searchParts(ctx: Ctx, parts: Part[], pmedia: string): Part[] {
  if (!pmedia.startsWith("usb")) return parts;
  const usb = parts.filter((p) => p.usb);
  ctx.log.info(
    "search",
    `pmedia=${pmedia}: only USB drives are searched (${usb.map((p) => p.name).join(", ") || "none present"})`,
  );
  return usb;
}

export function initrdHas(machine: Machine, name: string): boolean {
  return (machine.initrd.files ?? []).some((f) => normalizePath(f) === "/" + name);
}

/** A directory as PSAVEDIR spells it: rooted, with a trailing '/'. */
export function asDir(path: string): string {
  const n = normalizePath(path || "/");
  return n === "/" ? "/" : `${n}/`;
}
