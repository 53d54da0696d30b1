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
  /** The buses modules.alias's patterns name (the text before a pattern's first ":"); "*" for the patterns that start with a wildcard or name none. */
  buses: Set<string>;
  /** A bus's patterns ("*": those above), read from modules.alias on first use. */
  aliases(bus: string): AliasPattern[];
  /** The modules an alias matches, when a native matcher does it (AliasMatcher); else the patterns above are matched. */
  match?: (alias: string) => string[];
}

/**
 * modules.alias read and matched in native code (ramstack:sys on the init's
 * engine): the same answers as the patterns here, without a thousand lines
 * parsed and matched in JavaScript.
 */
export interface AliasMatcher {
  /** The buses the patterns name, each once; "*" for patterns with none or a wildcard there. */
  buses(text: string): string[];
  /** The modules whose pattern matches ALIAS (fnmatch(3), as modprobe), in the file's order. */
  match(text: string, alias: string): string[];
}

export interface AliasPattern {
  pattern: string;
  module: string;
  /** The pattern up to its first wildcard: an alias that does not start with it cannot match (most have a vendor here). */
  prefix?: string;
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

/** A module's name from its file or as asked for: no directory or .ko suffix (.ko.xz, …), dashes as underscores. */
export function moduleName(s: string): string {
  // Without regular expressions: the init names a few hundred modules, and each one costs on its engine.
  let name = s.slice(s.lastIndexOf("/") + 1);
  const ko = name.lastIndexOf(".ko");
  if (ko >= 0 && (ko + 3 === name.length || (name[ko + 3] === "." && isWord(name.slice(ko + 4)))))
    name = name.slice(0, ko);
  return name.includes("-") ? name.split("-").join("_") : name;
}

const isWord = (s: string): boolean => s !== "" && /^\w+$/.test(s);

export function parseModuleIndex(modulesDep: string, modulesAlias: string, native?: AliasMatcher): ModuleIndex {
  const paths = new Map<string, string>();
  const deps = new Map<string, string[]>();
  eachLine(modulesDep, (line) => {
    const colon = line.indexOf(":");
    if (colon <= 0) return;
    const file = line.slice(0, colon).trim();
    const name = moduleName(file);
    paths.set(name, file);
    const needs: string[] = [];
    for (const d of line.slice(colon + 1).split(" ")) if (d !== "") needs.push(moduleName(d.trim()));
    deps.set(name, needs);
  });
  if (native)
    return {
      paths,
      deps,
      buses: new Set(native.buses(modulesAlias)),
      aliases: () => [],
      match: (alias) => native.match(modulesAlias, alias),
    };
  // modules.alias has a thousand lines and more, and a boot needs the patterns of one or two buses (pci, virtio):
  // the buses are read from every line, a bus's patterns only when asked for (this runs in the init, where
  // each line's parse costs on its engine under emulation).
  const text = `\n${modulesAlias}`;
  const buses = new Set<string>();
  const byBus = new Map<string, AliasPattern[]>([["*", []]]);
  for (let at = text.indexOf(ALIAS_LINE); at >= 0; at = text.indexOf(ALIAS_LINE, at + 1)) {
    const start = at + ALIAS_LINE.length;
    const space = text.indexOf(" ", start);
    const end = lineEnd(text, start);
    if (space < 0 || space > end) continue;
    const colon = text.indexOf(":", start);
    const head = colon > 0 && colon < space ? text.slice(start, colon) : "";
    if (head !== "" && !hasWildcard(head)) buses.add(head);
    else byBus.get("*")!.push(aliasPattern(text, start, space, end));
  }
  if (byBus.get("*")!.length) buses.add("*");
  const aliases = (bus: string): AliasPattern[] => {
    let list = byBus.get(bus);
    if (list) return list;
    list = [];
    const key = `${ALIAS_LINE}${bus}:`;
    for (let at = text.indexOf(key); at >= 0; at = text.indexOf(key, at + 1)) {
      const start = at + ALIAS_LINE.length;
      const space = text.indexOf(" ", start);
      const end = lineEnd(text, start);
      if (space >= 0 && space < end) list.push(aliasPattern(text, start, space, end));
    }
    byBus.set(bus, list);
    return list;
  };
  return { paths, deps, buses, aliases };
}

/** A modules.alias line's start, found with indexOf in the text with a newline put before its first line. */
const ALIAS_LINE = "\nalias ";

const lineEnd = (text: string, from: number): number => {
  const end = text.indexOf("\n", from);
  return end < 0 ? text.length : end;
};

/** The pattern (START to SPACE) and module (to END) of one alias line: the same slices for either loop. */
function aliasPattern(text: string, start: number, space: number, end: number): AliasPattern {
  const m = text.slice(space + 1, end).trim();
  return { pattern: text.slice(start, space), module: m.includes("-") ? moduleName(m) : m };
}

/** Where a pattern's first wildcard is (its length when it has none). */
function firstWildcard(pattern: string): number {
  let at = pattern.length;
  for (const c of ["*", "?", "["]) {
    const i = pattern.indexOf(c);
    if (i >= 0 && i < at) at = i;
  }
  return at;
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
  const found: string[] = [];
  if (index.match) {
    for (const m of index.match(asked)) {
      const module = m.includes("-") ? moduleName(m) : m;
      if (!found.includes(module) && index.paths.has(module)) found.push(module);
    }
    return found;
  }
  const colon = asked.indexOf(":");
  const candidates = [...(colon > 0 ? index.aliases(asked.slice(0, colon)) : []), ...index.aliases("*")];
  for (const a of candidates) {
    // Cheap tests first (this runs in the init, where QuickJS under emulation makes every step count): the
    // literal prefix, then the literal runs, and only then the pattern's regular expression.
    a.prefix ??= a.pattern.slice(0, firstWildcard(a.pattern));
    if (!asked.startsWith(a.prefix)) continue;
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
