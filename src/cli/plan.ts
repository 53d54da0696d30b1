// `ramstack plan`: what would the init do on this machine with this cmdline?

import { readFileSync } from "node:fs";
import { validateMachine } from "../plan/machine.js";
import { formatVars } from "../plan/handover.js";
import { pupmodeFacts } from "../plan/layout.js";
import { paramsHelp } from "../plan/params.js";
import type { Answers } from "../plan/planner.js";
import { planBoot } from "../plan/planner.js";
import type { Plan, Question } from "../plan/types.js";
import type { Step } from "../init/ops.js";
import { bootSteps, describeOp, switchSteps } from "../init/ops.js";
import type { OptionDef } from "./args.js";
import { optionsHelp, optionValue, parseArgs, UsageError } from "./args.js";

/** The boot questions --answer can answer, with the Answers field each fills and what it takes. */
const ANSWERS: Record<Question["id"], { field: "saveChoice" | "upgrade"; values: string }> = {
  "save-choice": { field: "saveChoice", values: "N" },
  upgrade: { field: "upgrade", values: "yes|no" },
};

const OPTIONS: OptionDef[] = [
  {
    name: "machine",
    value: "FILE.json",
    help: "the machine: RAM, initrd spec files, disks, partitions and their files",
  },
  { name: "cmdline", value: "TEXT", default: "", help: "the kernel command line" },
  {
    name: "answer",
    value: "ID=VALUE",
    repeat: true,
    help: `answer a boot question: ${Object.entries(ANSWERS)
      .map(([id, a]) => `${id}=${a.values}`)
      .join(", ")}`,
  },
  {
    name: "ops",
    help: "print the operations the init would perform, step by step (the exact mounts, links and files); with --json as data",
  },
  { name: "json", help: "print the plan as JSON" },
  { name: "params", help: "list the boot parameters the init honours" },
  { name: "help", help: "show this help" },
];

/** The help says "empty" for an empty default. */
const HELP_OPTIONS: OptionDef[] = OPTIONS.map(({ default: d, ...o }) =>
  d === "" ? { ...o, help: `${o.help} (default: empty)` } : d === undefined ? o : { ...o, default: d },
);

export const PLAN_HELP = `Usage: ramstack plan --machine FILE.json [--cmdline "..."] [--ops] [--json]

Shows what the init would do on a machine with a kernel command line: the
PUPMODE, the layer stack, the save, and why each decision was taken. Nothing
is mounted or changed.

${optionsHelp(HELP_OPTIONS)}

Exit status: 0 the boot would succeed, 1 the boot would stop at a shell
(the plan says why), 2 bad usage or an unreadable machine file.`;

export function runPlan(argv: readonly string[], out: (s: string) => void): number {
  const args = parseArgs(argv, OPTIONS);
  if (args.flags.has("help")) {
    out(PLAN_HELP);
    return 0;
  }
  if (args.flags.has("params")) {
    out(`Boot parameters:\n${paramsHelp()}`);
    return 0;
  }
  if (args.positional.length) throw new UsageError(`unexpected argument '${args.positional[0]}'`);
  const file = optionValue(args, OPTIONS, "machine");
  if (!file) throw new UsageError("--machine FILE.json is required");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const { machine, errors } = validateMachine(json);
  if (!machine) throw new UsageError(`${file} is not a machine description:\n  ${errors.join("\n  ")}`);
  const answers: Answers = {};
  for (const a of args.options.get("answer") ?? []) {
    const [id, value] = [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)];
    const q = Object.hasOwn(ANSWERS, id) ? ANSWERS[id as Question["id"]] : undefined;
    if (!q) throw new UsageError(`--answer ${a}: the questions are ${Object.keys(ANSWERS).join(" and ")}`);
    answers[q.field] = value;
  }
  const plan = planBoot({ machine, cmdline: optionValue(args, OPTIONS, "cmdline") ?? "", answers });
  const asJson = args.flags.has("json");
  if (args.flags.has("ops")) {
    const steps = [...bootSteps(plan, formatVars), ...switchSteps(plan)];
    out(asJson ? JSON.stringify(steps, null, 2) : formatSteps(plan, steps));
  } else out(asJson ? JSON.stringify(plan, null, 2) : formatPlan(plan));
  return plan.fatal ? 1 : 0;
}

/** The steps as the init's log names them, each operation on a line; what a failure of the step means. */
export function formatSteps(plan: Plan, steps: readonly Step[]): string {
  if (plan.fatal) return `FATAL: ${plan.fatal}\nThe init would stop at a shell: nothing is mounted.`;
  const onFail = {
    abort: "if it fails: a shell",
    save: "if it fails: boot in RAM, the save untouched",
    skip: "if it fails: left out",
  };
  return steps
    .map((s) => [`${s.name} (${onFail[s.onFail]}):`, ...s.ops.map((o) => `  ${describeOp(o)}`)].join("\n"))
    .join("\n");
}

export function formatPlan(plan: Plan): string {
  const lines: string[] = [];
  if (plan.fatal) {
    lines.push(`FATAL: ${plan.fatal}`, "The init would stop at a shell.");
    if (plan.pending.length)
      lines.push(`Still missing after waiting ${plan.waitdev} s for devices: ${plan.pending.join(", ")}`);
  } else {
    lines.push(`PUPMODE ${plan.pupmode} (${pupmodeFacts(plan.pupmode).text}), union: ${plan.unionfs}`);
    lines.push("Layers, top first:");
    for (const l of plan.layers) {
      const where = l.source === "tmpfs" ? "RAM" : l.source === "initrd" ? "initrd" : `${l.partition}:${l.path}`;
      const kind = l.kind && l.kind !== l.role ? ` (${l.kind})` : "";
      lines.push(
        `  ${(l.role + kind).padEnd(14)} ${l.mountpoint.padEnd(10)} ${where}${l.ram && l.source !== "tmpfs" ? "  [copied to RAM]" : ""}`,
      );
    }
    const s = plan.save;
    lines.push(
      s.kind === "none"
        ? "Save: none"
        : `Save: ${s.kind} ${s.partition}:${s.path}${s.encrypted ? " (LUKS)" : ""}${s.flash ? " (flash)" : ""}`,
    );
    const t = plan.saveTarget;
    if (t)
      lines.push(
        `Save place (${t.from}): ${t.partition}:${t.dir}${s.kind === "none" ? "; the first save goes there" : ""}`,
      );
    if (plan.mediaRemovable) lines.push("Everything is in RAM: the boot medium can be removed.");
    else lines.push(`Kept mounted: ${plan.keepMounted.join(", ")}`);
    for (const f of plan.fsck) lines.push(`fsck: ${f.target} (${f.reason})`);
    if (plan.modules.length) lines.push(`Modules: ${plan.modules.join(", ")}`);
    for (const q of plan.questions)
      lines.push(`Question (${q.id}, ${q.timeoutSec} s, default ${q.default}): ${q.prompt}`);
  }
  if (plan.warnings.length) lines.push("Warnings:", ...plan.warnings.map((w) => `  ${w}`));
  lines.push("Why:", ...plan.log.map((l) => `  ${l}`));
  if (!plan.fatal)
    lines.push(
      "PUPSTATE:",
      ...formatVars(plan.pupstate)
        .trimEnd()
        .split("\n")
        .map((l) => `  ${l}`),
    );
  return lines.join("\n");
}
