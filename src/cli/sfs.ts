// `ramstack sfs`: load an SFS into the running system, unload it, list what
// is loaded; --boot keeps it in BOOTCONFIG's EXTRASFSLIST, so the init
// stacks it at every boot. How a load works and its limits: sfs/live.ts.

import { resolveFrom } from "../lib/path.js";
import { defaultPort } from "../port/default.js";
import { progress } from "../lib/progress.js";
import { portProgress } from "./progress.js";
import type { Port } from "../port/port.js";
import { bootPlaces, bootSfsList, setBootSfs } from "../sfs/boot.js";
import { TASK_NAMES } from "../tasks/table.js";
import type { LoadedSfs } from "../sfs/live.js";
import { listLoaded, loadSfs, sfsName, unloadSfs } from "../sfs/live.js";
import type { OptionDef } from "./args.js";
import { optionsHelp, parseArgs, UsageError } from "./args.js";

const BOOT: OptionDef = {
  name: "boot",
  help: "also at every boot: EXTRASFSLIST in /etc/rc.d/BOOTCONFIG (kept by the save)",
};
const JSON_OPT: OptionDef = { name: "json", help: "print the result as JSON" };
const HELP_OPT: OptionDef = { name: "help", help: "show this help" };
const OPTIONS: Record<string, OptionDef[]> = {
  load: [BOOT, JSON_OPT, HELP_OPT],
  unload: [BOOT, JSON_OPT, HELP_OPT],
  list: [JSON_OPT, HELP_OPT],
};

export const SFS_HELP = `Usage: ramstack sfs load [--boot] FILE
       ramstack sfs unload [--boot] NAME
       ramstack sfs list [--json]

Load an SFS (a squashfs file of programs and their files) into the running
system without a reboot, or unload it. Its files are linked into / (a file
the system already has is left as it is); ldconfig runs, so its libraries
are found at once. The links are never saved: an SFS loaded this way is gone
at reboot unless --boot puts it in BOOTCONFIG's EXTRASFSLIST, so that the
init stacks it as a layer at every boot. For that the file must be where the
init looks: the save partition's PSUBDIR, or its root.

A task's layer (NAME_debian_VERSION.sfs, from ramstack build --task) is not
loaded while running, because dpkg would not know its packages: load --boot
puts it in EXTRASFSLIST and the init stacks it on top from the next boot, as
ptask=NAME does; ramstack task add NAME installs the task at once.

Options (load, unload):
${optionsHelp(OPTIONS.load!)}`;

function program(port: Port, root: string, name: string): string | null {
  const p = resolveFrom(root, name);
  return port.stat(p) !== null ? p : null;
}

/**
 * The caches a system keeps of its files, when it has the program that makes
 * them: ldconfig (a library the SFS brings or took away is found or
 * forgotten at once) and the desktop's list of applications.
 */
const CACHES: [program: string, args: string[]][] = [
  ["sbin/ldconfig", []],
  ["usr/bin/update-desktop-database", ["-q"]],
];

function refreshCaches(port: Port, root: string, out: (s: string) => void): void {
  for (const [name, args] of CACHES) {
    const p = program(port, root, name);
    if (!p) continue;
    try {
      port.tool(p, args);
    } catch (e) {
      out(`Warning: ${(e as Error).message}`);
    }
  }
}

/** The task whose layer FILE is (NAME_PREFIX_VERSION.sfs, as ramstack build --task names it), or null. */
function taskOfFile(file: string): string | null {
  const name = /^([a-z0-9][a-z0-9-]*)_[^/]*\.sfs$/.exec(file)?.[1];
  return name !== undefined && TASK_NAMES.includes(name) ? name : null;
}

interface Listing {
  loaded: { name: string; file: string; links: number; shadowed: number }[];
  boot: string[];
}

export function runSfs(argv: readonly string[], out: (s: string) => void, port: Port = defaultPort()): number {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    out(SFS_HELP);
    return sub === undefined ? 2 : 0;
  }
  const defs = OPTIONS[sub];
  if (!defs) throw new UsageError(`unknown subcommand '${sub}'`);
  const a = parseArgs(rest, defs);
  if (a.flags.has("help")) {
    out(SFS_HELP);
    return 0;
  }
  const json = a.flags.has("json");
  const boot = a.flags.has("boot");
  const root = "/";
  if (sub === "list") {
    if (a.positional.length) throw new UsageError("list takes no arguments", "sfs list");
    const l: Listing = {
      loaded: listLoaded(port).map((x) => ({
        name: x.name,
        file: x.file,
        links: x.links.length,
        shadowed: x.shadowed,
      })),
      boot: bootSfsList(port, root),
    };
    if (json) out(JSON.stringify(l, null, 2));
    else {
      out(l.loaded.length ? "Loaded while running:" : "Loaded while running: none");
      for (const x of l.loaded) out(`  ${x.name}  ${x.file}  (${x.links} files linked)`);
      out(`At every boot (EXTRASFSLIST): ${l.boot.length ? l.boot.join(" ") : "none"}`);
    }
    return 0;
  }
  if (a.positional.length !== 1)
    throw new UsageError(`${sub} takes one ${sub === "load" ? "FILE" : "NAME"}`, `sfs ${sub}`);
  const arg = a.positional[0]!;
  const result: { name: string; loaded?: LoadedSfs; unloaded?: LoadedSfs; boot?: boolean } = { name: sfsName(arg) };
  if (sub === "load") {
    const file = resolveFrom(port.cwd(), arg);
    const task = taskOfFile(result.name);
    if (task !== null && !boot)
      throw new Error(
        `${result.name} is the ${task} task's layer, which is not loaded while running (dpkg would not know its packages): ` +
          `ramstack sfs load --boot ${arg} stacks it from the next boot, ramstack task add ${task} installs the task now`,
      );
    if (boot) checkBootPlace(port, file, result.name, root);
    if (task !== null) {
      result.boot = setBootSfs(port, result.name, true, root);
      if (json) out(JSON.stringify(result, null, 2));
      else
        out(
          `${result.name} (the ${task} task) is stacked on top at every boot from the next one (EXTRASFSLIST)` +
            `${result.boot ? "" : ": it was already"}; it is not linked now.`,
        );
      return 0;
    }
    if (!listLoaded(port).some((x) => x.name === result.name)) {
      result.loaded = loadSfs(
        port,
        file,
        json ? {} : { progress: progress(portProgress(port), `sfs: ${result.name}`) },
      );
      refreshCaches(port, root, out);
      if (!json) {
        const l = result.loaded;
        out(
          `Loaded ${l.name}: ${l.links.length} files linked into /` +
            (l.shadowed ? ` (${l.shadowed} the system already has, left as they were)` : ""),
        );
      }
    } else if (!boot) throw new Error(`${result.name} is loaded already (ramstack sfs unload ${result.name})`);
    if (boot) {
      result.boot = setBootSfs(port, result.name, true, root);
      if (!json) out(`${result.name} is stacked at every boot (EXTRASFSLIST)${result.boot ? "" : ": it was already"}.`);
    }
  } else {
    const loaded = listLoaded(port).some((x) => x.name === result.name);
    const listed = bootSfsList(port, root).includes(result.name);
    if (!loaded && !(boot && listed))
      throw new Error(
        listed
          ? `${result.name} is stacked by the init at boot, not loaded while running: --boot takes it out of the next boots`
          : `${result.name} is not loaded (ramstack sfs list)`,
      );
    if (loaded) {
      result.unloaded = unloadSfs(port, result.name);
      refreshCaches(port, root, out);
      if (!json) out(`Unloaded ${result.name}: ${result.unloaded.links.length} links removed.`);
    }
    if (boot) {
      result.boot = setBootSfs(port, result.name, false, root);
      if (!json) out(`${result.name} is no longer stacked at boot${result.boot ? "" : " (it was not)"}.`);
    }
  }
  if (json) out(JSON.stringify(result, null, 2));
  return 0;
}

/** --boot: the init finds an extra SFS only by name, in the save partition's PSUBDIR or root. */
function checkBootPlace(port: Port, file: string, name: string, root: string): void {
  const places = bootPlaces(port, name, root);
  if (places === null)
    throw new Error("--boot needs a save to keep EXTRASFSLIST in (PUPMODE 12 or 13): make one first");
  const real = port.stat(file) !== null ? port.realpath(file) : file;
  const same = places.some((p) => port.stat(p) !== null && port.realpath(p) === real);
  if (!same)
    throw new Error(
      `--boot: the init looks for ${name} in ${places.join(" or ")}: copy it there and load it from there`,
    );
}
