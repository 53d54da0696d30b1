// A small argument parser: declared options only, so a typo is an error
// rather than silently ignored.

export interface OptionDef {
  name: string;
  /** Takes a value (`--name VALUE` or `--name=VALUE`). */
  value?: string;
  /** May be given more than once. */
  repeat?: boolean;
  /** The value used when the option is not given; the help shows it, and optionValue returns it. */
  default?: string;
  /** Accepted but left out of the help (an older spelling that still works). */
  hidden?: boolean;
  help: string;
}

export interface ParsedArgs {
  options: Map<string, string[]>;
  flags: Set<string>;
  positional: string[];
}

export class UsageError extends Error {
  /** The command whose --help to point to when it is not the verb itself ("save new"). */
  command?: string;
  constructor(message: string, command?: string) {
    super(message);
    if (command !== undefined) this.command = command;
  }
}

export function parseArgs(argv: readonly string[], defs: readonly OptionDef[]): ParsedArgs {
  const options = new Map<string, string[]>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("--") || a === "--") {
      if (a === "-h") flags.add("help");
      else positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const def = defs.find((d) => d.name === name);
    if (!def) throw new UsageError(`unknown option --${name}`);
    if (def.value === undefined) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
      continue;
    }
    let v: string | undefined;
    if (eq >= 0) v = a.slice(eq + 1);
    else {
      v = argv[i + 1];
      if (v === undefined) throw new UsageError(`--${name} needs a value (${def.value})`);
      i++;
    }
    const list = options.get(name) ?? [];
    if (list.length && !def.repeat) throw new UsageError(`--${name} given twice`);
    list.push(v);
    options.set(name, list);
  }
  return { options, flags, positional };
}

export function optionsHelp(defs: readonly OptionDef[]): string {
  const shown = defs.filter((d) => !d.hidden);
  const label = (d: OptionDef): string => `--${d.name}${d.value ? ` ${d.value}` : ""}`;
  const width = Math.max(...shown.map((d) => label(d).length)) + 2;
  return shown
    .map((d) => `  ${label(d).padEnd(width)}${d.help}${d.default !== undefined ? ` (default ${d.default})` : ""}`)
    .join("\n");
}

/** An option's value as given, else its declared default (undefined when it has none). */
export function optionValue(a: ParsedArgs, defs: readonly OptionDef[], name: string): string | undefined {
  const given = a.options.get(name)?.[0];
  if (given !== undefined) return given;
  const def = defs.find((d) => d.name === name);
  if (!def) throw new Error(`optionValue: no option --${name} is declared`);
  return def.default;
}

/** A value that must be one of a few words. */
export function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!allowed.includes(value as T)) throw new UsageError(`${what} '${value}' is not one of ${allowed.join(", ")}`);
  return value as T;
}

/** A whole number of at least `min`. */
export function wholeNumber(text: string, what: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${what} takes a whole number, not '${text}'`);
  return n;
}
