// `ramstack task`: make the running system ready for a job (src/tasks).

import { defaultPort } from "../port/default.js";
import type { Port } from "../port/port.js";
import { addTask, removeTask, taskStates } from "../tasks/runtime.js";
import { taskDef, TASK_NAMES, TASKS } from "../tasks/table.js";
import type { OptionDef } from "./args.js";
import { optionsHelp, parseArgs, UsageError } from "./args.js";

const OPTIONS: OptionDef[] = [
  { name: "json", help: "print the result as JSON (apt's own output is then not shown)" },
  { name: "help", help: "show this help" },
];

export const TASK_HELP = `Usage: ramstack task add NAME
       ramstack task remove NAME
       ramstack task list [--json]

Prepare the running system for a task: add installs its Debian packages
with apt (the package lists are fetched first; they live in RAM), writes its
settings and starts its services, then runs its health check. A save keeps
it (ramstack save, or the save at poweroff); without one it is gone at
reboot. remove stops its services and purges its packages; the task's
project files (e.g. /srv/www) are the user's and stay. A task stacked at boot
from its layer (ptask=NAME, ramstack build --task) is listed but cannot be
removed while running.

Tasks:
${TASK_NAMES.map((n) => `  ${n.padEnd(8)} ${TASKS[n]!.purpose}`).join("\n")}

${optionsHelp(OPTIONS)}`;

export function runTask(argv: readonly string[], out: (s: string) => void, port: Port = defaultPort()): number {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    out(TASK_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (!["add", "remove", "list"].includes(sub)) throw new UsageError(`unknown subcommand '${sub}'`, "task");
  const a = parseArgs(rest, OPTIONS);
  if (a.flags.has("help")) {
    out(TASK_HELP);
    return 0;
  }
  const json = a.flags.has("json");
  const say = (s: string): void => (json ? undefined : port.sayError(`task: ${s}`));
  if (sub === "list") {
    if (a.positional.length) throw new UsageError(`unexpected argument '${a.positional[0]}'`, "task list");
    const states = taskStates(port);
    if (json) out(JSON.stringify({ tasks: states }, null, 2));
    else
      for (const s of states)
        out(
          `${s.name.padEnd(8)} ${s.layer ? "stacked at boot (ptask)" : s.installed ? "added" : "not added"}  ${s.purpose}`,
        );
    return 0;
  }
  if (a.positional.length !== 1) throw new UsageError(`${sub} takes one NAME`, `task ${sub}`);
  const name = a.positional[0]!;
  try {
    taskDef(name);
  } catch (e) {
    throw new UsageError((e as Error).message, `task ${sub}`);
  }
  if (sub === "add") {
    const r = addTask(port, name, { say, showApt: !json });
    if (json) out(JSON.stringify(r, null, 2));
    else
      out(
        `Added ${name}: ${r.installed.length} packages installed, ${r.services.join(", ") || "no services"} started; ` +
          (r.healthy ? "its health check passes." : "its health check FAILS (see the services' logs).") +
          " ramstack save keeps it; without a save it is gone at reboot.",
      );
    return r.healthy ? 0 : 1;
  }
  removeTask(port, name, { say, showApt: !json });
  if (json) out(JSON.stringify({ removed: name }));
  else out(`Removed ${name}; its project files stay.`);
  return 0;
}
