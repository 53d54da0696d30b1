// Tasks in the running system (`ramstack task`): added from Debian's
// packages by apt, as DietPi installs software (dpkg knows them, so apt can
// upgrade and remove them), their files written and services started; kept
// by a save like any change, gone at reboot without one. A task stacked at
// boot by ptask= is a layer: it is listed, not removed.

import { dirname, join } from "../lib/path.js";
import { parseParams } from "../plan/params.js";
import type { Port } from "../port/port.js";
import { sourcesFileOf, sourcesScript, standInOf, standInScript } from "./apt-prep.js";
import type { TaskDef } from "./table.js";
import { taskDef, TASK_NAMES, TASKS } from "./table.js";

export interface TaskState {
  name: string;
  purpose: string;
  /** Every package installed. */
  installed: boolean;
  /** Packages not installed. */
  missing: string[];
  /** Stacked at boot as a layer (ptask=): it cannot be removed while running. */
  layer: boolean;
}

/** Which of the packages dpkg has installed. */
function installedOf(port: Port, packages: readonly string[]): Set<string> {
  const r = port.run("dpkg-query", ["-W", "-f", "${Package} ${db:Status-Abbrev}\\n", ...packages], { allowFail: true });
  const out = new Set<string>();
  for (const line of r.stdout.split("\n")) {
    const [name, status] = line.trim().split(/\s+/);
    if (name && status?.startsWith("ii")) out.add(name);
  }
  return out;
}

/** The task layers the init stacked: ptask= on the kernel's command line, read as the init reads it. */
function stackedTasks(port: Port, root: string): string[] {
  return parseParams(port.readText(join(root, "proc/cmdline")) ?? "").params.ptask;
}

export function taskStates(port: Port, root = "/"): TaskState[] {
  const stacked = stackedTasks(port, root);
  return TASK_NAMES.map((name) => {
    const t = TASKS[name]!;
    const have = installedOf(port, t.packages);
    const missing = t.packages.filter((p) => !have.has(p));
    return { name, purpose: t.purpose, installed: missing.length === 0, missing, layer: stacked.includes(name) };
  });
}

/** apt's lists are in RAM: empty after each boot until apt-get update. */
function aptHasLists(port: Port, root: string): boolean {
  return port.list(join(root, "var/lib/apt/lists")).some((n) => n.endsWith("_Packages") || n.includes("_Packages."));
}

/** apt-get without questions; its own output on the terminal when SHOW. */
function aptGet(port: Port, args: readonly string[], show: boolean): void {
  port.run("env", ["DEBIAN_FRONTEND=noninteractive", "apt-get", ...args], show ? { inherit: true } : {});
}

/** A default route: the network is up (the boot brings it up beside the login). */
function hasDefaultRoute(port: Port, root: string): boolean {
  const table = port.readText(join(root, "proc/net/route")) ?? "";
  return table.split("\n").some((l) => l.split(/\s+/)[1] === "00000000");
}

/** apt needs the network: wait for it a while (DHCP may still be under way just after boot). */
function waitForNetwork(port: Port, root: string, say: (s: string) => void, seconds: number): void {
  if (hasDefaultRoute(port, root)) return;
  say(`waiting for the network (up to ${seconds} s)`);
  const until = port.now() + seconds * 1000;
  while (!hasDefaultRoute(port, root)) {
    if (port.now() >= until)
      throw new Error(
        `no network after ${seconds} s (no default route): nothing was installed; check 'ip addr' and try again`,
      );
    port.run("sleep", ["1"], { allowFail: true });
  }
}

export interface TaskAddResult {
  name: string;
  /** Packages apt installed (those the task names that were not there). */
  installed: string[];
  services: string[];
  healthy: boolean;
}

/**
 * Install the task: apt (its lists fetched first when RAM holds none), its
 * files, its setup, its services (re)started; then its health check, tried
 * for up to WAIT seconds while the services start.
 */
export function addTask(
  port: Port,
  name: string,
  o: { say: (s: string) => void; showApt: boolean; waitSeconds?: number },
  root = "/",
): TaskAddResult {
  const t = taskDef(name);
  const before = installedOf(port, t.packages);
  waitForNetwork(port, root, o.say, 60);
  const sources = sourcesScript(name, t);
  if (sources && port.lstat(join(root, sourcesFileOf(name))) === null) {
    o.say(`adding Debian's ${t.components!.join(" ")} archive area (${sourcesFileOf(name)})`);
    port.run("sh", ["-ec", sources]);
    aptGet(port, ["update", "-q"], o.showApt);
  } else if (!aptHasLists(port, root)) {
    o.say("apt-get update (the package lists are in RAM, fetched again after each boot)");
    aptGet(port, ["update", "-q"], o.showApt);
  }
  // Left out unless there already: the real package, or its stand-in from an earlier add.
  const leaveOut = (t.leaveOut ?? []).filter((l) => installedOf(port, [l.name, standInOf(l.name)]).size === 0);
  if (leaveOut.length) {
    o.say(`leaving out ${leaveOut.map((l) => `${l.name} (${l.why})`).join("; ")}: empty stand-ins take their place`);
    port.run("sh", ["-ec", standInScript(name, { ...t, leaveOut })]);
  }
  o.say(`installing ${t.packages.join(" ")} and what they need`);
  aptGet(port, ["install", "-y", "-q", "--no-install-recommends", ...t.packages], o.showApt);
  for (const [path, f] of Object.entries(t.files)) {
    const full = join(root, path);
    if (t.userFiles.includes(path) && port.lstat(full) !== null) continue;
    port.mkdir(dirname(full));
    port.writeText(full, f.text);
    port.chmod(full, f.mode);
  }
  if (t.setup.length) port.run("sh", ["-ec", t.setup.join("\n")]);
  // Restarted, not started: a package's own postinst may have started the service already,
  // with Debian's settings, before the task's files and setup (lighttpd did: no PHP).
  for (const s of t.services) {
    o.say(`(re)starting ${s}`);
    port.run(join(root, "etc/init.d", s), ["restart"], { allowFail: true });
  }
  // Node.js alone takes ~15 s to start under emulation: the services get two minutes.
  const healthy = waitHealthy(port, t, o.waitSeconds ?? 120);
  return { name, installed: t.packages.filter((p) => !before.has(p)), services: t.services, healthy };
}

function waitHealthy(port: Port, t: TaskDef, seconds: number): boolean {
  const until = port.now() + seconds * 1000;
  for (;;) {
    if (port.run("sh", ["-c", t.health], { allowFail: true }).status === 0) return true;
    if (port.now() >= until) return false;
    port.run("sleep", ["1"], { allowFail: true });
  }
}

/** Stop the task's services, purge its packages (and what only they needed), remove its files. */
export function removeTask(
  port: Port,
  name: string,
  o: { say: (s: string) => void; showApt: boolean },
  root = "/",
): void {
  const t = taskDef(name);
  if (stackedTasks(port, root).includes(name))
    throw new Error(`${name} is a layer stacked at boot (ptask=${name}): boot without it to remove it`);
  for (const s of t.services) port.run(join(root, "etc/init.d", s), ["stop"], { allowFail: true });
  const standIns = (t.leaveOut ?? []).map((l) => standInOf(l.name));
  const have = [...installedOf(port, [...t.packages, ...standIns])];
  if (have.length) {
    o.say(`removing ${have.join(" ")} and what only they needed`);
    aptGet(port, ["purge", "-y", "-q", "--autoremove", ...have], o.showApt);
  }
  // The task's own files (not the user's): its init scripts' links first, then the files.
  for (const path of Object.keys(t.files)) {
    if (t.userFiles.includes(path)) continue;
    const full = join(root, path);
    if (path.startsWith("etc/init.d/"))
      port.run("update-rc.d", [path.slice("etc/init.d/".length), "remove"], { allowFail: true });
    port.remove(full);
  }
  // apt's lists forget that archive area at its next update.
  if (t.components?.length) port.remove(join(root, sourcesFileOf(name)));
}
