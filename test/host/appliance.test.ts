// Host tier: a task's appliance script (applianceService), run as init runs
// it, in a private mount namespace whose /proc/cmdline, /run and /var/log
// are this test's: it starts its command only when pautostart= names the
// task, and stop ends the command's whole process group.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { applianceService } from "../../src/tasks/table.js";
import { run } from "../../src/sys/exec.js";
import { scratch } from "../helpers/system.js";

/** Run the script with CMDLINE as the kernel's command line; what the shell commands after it print. */
function withCmdline(script: string, cmdline: string, then: string): string {
  const dir = scratch("appliance");
  writeFileSync(join(dir, "cmdline"), `${cmdline}\n`);
  const sh = [
    "set -e",
    `mount --bind ${dir}/cmdline /proc/cmdline`,
    "mount -t tmpfs tmpfs /run",
    "mount -t tmpfs tmpfs /var/log",
    `sh ${script} start`,
    then,
  ].join("\n");
  return run("unshare", ["-m", "--propagation", "private", "sh", "-c", sh]).stdout;
}

describe("a task's appliance at boot", () => {
  const dir = scratch("appliance-script");
  const script = join(dir, "ramstack-demo");
  // The command is a script that starts a program, as kodi-standalone is.
  writeFileSync(script, applianceService("demo", "sh -c 'echo started; sleep 300 & wait'", "a demo"));

  it("does nothing without pautostart= naming it", () => {
    const out = withCmdline(
      script,
      "console=ttyS0 pautostart=kodi,webdev ptask=demo",
      'for f in /run/*.pid; do [ -e "$f" ] && echo "$f"; done; echo end',
    );
    assert.equal(out, "end\n");
  });

  it("starts its command when pautostart= names it; stop ends its whole process group", () => {
    const out = withCmdline(
      script,
      "console=ttyS0 pautostart=kodi,demo",
      [
        // The command has started once its output is in its log.
        "i=0; until grep -q started /var/log/ramstack-demo.log 2>/dev/null; do i=$((i+1)); [ $i -lt 50 ] || exit 1; sleep 0.1; done",
        "pid=$(cat /run/ramstack-demo.pid)",
        'pgid=$(ps -o pgid= -p "$pid" | tr -d " ")',
        'echo "sleeps: $(pgrep -g "$pgid" -c sleep)"',
        `sh ${script} status && echo running`,
        `sh ${script} stop`,
        "sleep 0.5",
        // Zombies are left to this machine's init to reap: only live processes count.
        'echo "after stop: $(ps -o stat= -g "$pgid" | grep -vc Z) left, pidfile $(ls /run/*.pid 2>/dev/null || true)"',
      ].join("\n"),
    );
    assert.match(out, /^sleeps: 1\nrunning\nafter stop: 0 left, pidfile \n$/);
  });
});
