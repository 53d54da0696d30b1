// Reads Puppy's shell-style parameter files (DISTRO_SPECS, BOOT_SPECS,
// SAVESPEC, PUPSTATE, BOOTCONFIG) as data. Nothing is ever executed: only
// `NAME=value` assignments are taken, with shell quoting, comments and
// `export`. Variable references are expanded from earlier assignments and
// from the given environment; command substitutions other than the few
// Puppy uses (`$(uname -r)`) are left out and reported.

export interface ShellVarsResult {
  vars: Map<string, string>;
  /** Lines that were not plain assignments, with why they were skipped. */
  skipped: { line: number; text: string; reason: string }[];
}

export interface ShellVarsOptions {
  /** Values for `$VAR` references not assigned in the file itself. */
  env?: ReadonlyMap<string, string>;
  /** Kernel release for `$(uname -r)` in DISTRO_ZDRVSFS (Kit_Kernel builds). */
  kernelRelease?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseShellVars(text: string, options: ShellVarsOptions = {}): ShellVarsResult {
  const vars = new Map<string, string>();
  const skipped: ShellVarsResult["skipped"] = [];
  const lookup = (name: string): string => vars.get(name) ?? options.env?.get(name) ?? "";
  const lines = text.replace(/\r/g, "").split("\n");
  lines.forEach((raw, idx) => {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (line.startsWith("export ")) line = line.slice(7).trim();
    const eq = line.indexOf("=");
    const name = eq > 0 ? line.slice(0, eq) : "";
    if (!NAME.test(name)) {
      skipped.push({ line: idx + 1, text: raw, reason: "not an assignment" });
      return;
    }
    const parsed = parseWord(line.slice(eq + 1), lookup, options.kernelRelease);
    if (parsed.error) {
      skipped.push({ line: idx + 1, text: raw, reason: parsed.error });
      return;
    }
    vars.set(name, parsed.value);
  });
  return { vars, skipped };
}

interface WordResult {
  value: string;
  error?: string;
}

/** One shell word: quotes, escapes, `$VAR`, `${VAR}`, a trailing comment. */
function parseWord(src: string, lookup: (n: string) => string, kernelRelease?: string): WordResult {
  let out = "";
  let i = 0;
  const n = src.length;
  const expand = (): string | { error: string } => {
    // src[i] === '$'
    const rest = src.slice(i + 1);
    const sub = /^\(\s*uname\s+-r\s*\)/.exec(rest);
    if (sub) {
      i += 1 + sub[0].length;
      if (kernelRelease === undefined) return { error: "uses $(uname -r) but the kernel release is unknown" };
      return kernelRelease;
    }
    if (rest.startsWith("(") || rest.startsWith("`")) return { error: "command substitution is not allowed" };
    const braced = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(rest);
    if (braced) {
      i += 1 + braced[0].length;
      return lookup(braced[1]!);
    }
    const plain = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (plain) {
      i += 1 + plain[0].length;
      return lookup(plain[0]);
    }
    // A lone '$' stays literal, as in the shell.
    i += 1;
    return "$";
  };
  while (i < n) {
    const c = src[i]!;
    if (c === " " || c === "\t" || c === ";") {
      // End of the word: only a comment or nothing may follow.
      const tail = src.slice(i).replace(/^[\s;]+/, "");
      if (tail === "" || tail.startsWith("#")) break;
      return { value: out, error: "more than one word after '='" };
    }
    if (c === "`") return { value: out, error: "command substitution is not allowed" };
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) return { value: out, error: "unterminated single quote" };
      out += src.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = src[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === "\\" && i + 1 < n && '$`"\\'.includes(src[i + 1]!)) {
          out += src[i + 1];
          i += 2;
          continue;
        }
        if (d === "`") return { value: out, error: "command substitution is not allowed" };
        if (d === "$") {
          const v = expand();
          if (typeof v !== "string") return { value: out, error: v.error };
          out += v;
          continue;
        }
        out += d;
        i++;
      }
      if (!closed) return { value: out, error: "unterminated double quote" };
      continue;
    }
    if (c === "\\") {
      if (i + 1 < n) out += src[i + 1];
      i += 2;
      continue;
    }
    if (c === "$") {
      const v = expand();
      if (typeof v !== "string") return { value: out, error: v.error };
      out += v;
      continue;
    }
    out += c;
    i++;
  }
  return { value: out };
}

/** Quote a value so that a shell (and parseShellVars) reads it back unchanged. */
export function shellQuote(value: string): string {
  return "'" + value.replace(/'/g, "'\\''") + "'";
}

/** Render assignments in Puppy's `NAME='value'` style. */
export function renderShellVars(entries: Iterable<[string, string]>): string {
  let out = "";
  for (const [k, v] of entries) out += `${k}=${shellQuote(v)}\n`;
  return out;
}
