// What modprobe works out before it loads anything, for a port that loads
// modules itself (finit_module from ramstack:sys): modules.dep's paths and
// dependencies, modules.alias's patterns, and module parameters given on
// the kernel command line (name.param=value). Pure: the port reads the
// files and makes the calls.

export interface ModuleIndex {
  /** Module name (underscores) -> its file, relative to /lib/modules/KVER. */
  paths: Map<string, string>;
  /** Module name -> the modules it needs, as modules.dep lists them. */
  deps: Map<string, string[]>;
  /** modules.alias by the pattern's bus (the text before its first ":"); "*" for patterns that start with a wildcard. */
  aliases: Map<string, AliasPattern[]>;
}

interface AliasPattern {
  pattern: string;
  module: string;
  /** The pattern's literal runs (between wildcards): an alias lacking one cannot match, and needs no regular expression. */
  literals?: string[];
  re?: RegExp;
}

/** Each line of TEXT, found with indexOf: splitting or a regular expression per line is slow on the init's engine. */
export function eachLine(text: string, f: (line: string) => void): void {
  for (let start = 0; start < text.length;) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    f(text.slice(start, end));
    start = end + 1;
  }
}

const hasWildcard = (s: string): boolean => s.includes("*") || s.includes("?") || s.includes("[");

/** A module's name from its file or as asked for: no directory or .ko suffix, dashes as underscores. */
export function moduleName(s: string): string {
  return s
    .replace(/^.*\//, "")
    .replace(/\.ko(\.\w+)?$/, "")
    .replace(/-/g, "_");
}

export function parseModuleIndex(modulesDep: string, modulesAlias: string): ModuleIndex {
  const paths = new Map<string, string>();
  const deps = new Map<string, string[]>();
  for (const line of modulesDep.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const file = line.slice(0, colon).trim();
    const name = moduleName(file);
    paths.set(name, file);
    deps.set(
      name,
      line
        .slice(colon + 1)
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(moduleName),
    );
  }
  const aliases: ModuleIndex["aliases"] = new Map();
  // modules.alias has a thousand lines and more: scanned with indexOf, not a regular expression per line
  // (this runs in the init, where a parse cost tenths of a second of an emulated boot).
  eachLine(modulesAlias, (line) => {
    if (!line.startsWith("alias ")) return;
    const space = line.indexOf(" ", 6);
    if (space < 0) return;
    const pattern = line.slice(6, space);
    const module = line.slice(space + 1).trim();
    const colon = pattern.indexOf(":");
    const head = colon > 0 ? pattern.slice(0, colon) : "";
    const bus = head === "" || hasWildcard(head) ? "*" : head;
    const list = aliases.get(bus);
    const entry = { pattern, module: module.includes("-") ? moduleName(module) : module };
    if (list) list.push(entry);
    else aliases.set(bus, [entry]);
  });
  return { paths, deps, aliases };
}

/** An alias pattern's literal runs, between its wildcards. */
const literalsOf = (pattern: string): string[] => pattern.split(/[*?]|\[[^\]]*\]/).filter((l) => l !== "");

/** fnmatch(3)'s patterns (*, ?, [set], [!set]) as a regular expression of the whole string. */
export function globRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    const close = c === "[" ? glob.indexOf("]", i + 2) : -1;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (close > 0) {
      const set = glob.slice(i + 1, close);
      re += `[${set.startsWith("!") ? `^${set.slice(1)}` : set}]`.replace(/\\/g, "\\\\");
      i = close;
    } else re += c.replace(/[.+^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The modules a name or an alias stands for: a module of that name, else every module whose alias matches. */
export function resolveModule(index: ModuleIndex, asked: string): string[] {
  const name = moduleName(asked);
  if (index.paths.has(name)) return [name];
  const colon = asked.indexOf(":");
  const candidates = [
    ...(colon > 0 ? (index.aliases.get(asked.slice(0, colon)) ?? []) : []),
    ...(index.aliases.get("*") ?? []),
  ];
  const found: string[] = [];
  for (const a of candidates) {
    a.literals ??= literalsOf(a.pattern);
    if (!a.literals.every((l) => asked.includes(l))) continue;
    a.re ??= globRegExp(a.pattern);
    if (a.re.test(asked) && !found.includes(a.module) && index.paths.has(a.module)) found.push(a.module);
  }
  return found;
}

/** What to load for these names and aliases, each module after the modules it needs, each once. */
export function loadOrder(index: ModuleIndex, asked: readonly string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (m: string): void => {
    if (seen.has(m)) return;
    seen.add(m);
    for (const d of index.deps.get(m) ?? []) visit(d);
    order.push(m);
  };
  for (const a of asked) for (const m of resolveModule(index, a)) visit(m);
  return order;
}

/** Module parameters from the kernel command line: usb_storage.quirks=… -> {usb_storage: "quirks=…"}. */
export function cmdlineModuleParams(cmdline: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const word of cmdline.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []) {
    const m = /^([\w-]+)\.([\w-]+)(?:=(.*))?$/.exec(word);
    if (!m) continue;
    const name = moduleName(m[1]!);
    const value = m[3] === undefined ? m[2]! : `${m[2]!}=${m[3]}`;
    params.set(name, params.has(name) ? `${params.get(name)!} ${value}` : value);
  }
  return params;
}
