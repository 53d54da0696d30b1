// Kernel command-line tokenizer: the same rules the kernel uses to split
// /proc/cmdline (spaces separate words, double quotes group, and a quoted
// value loses its quotes).

export interface CmdlineWord {
  /** Parameter name, or the whole word when it has no '='. */
  name: string;
  /** Value after the first '=', or null for a bare word such as `bootmenu`. */
  value: string | null;
}

export function tokenizeCmdline(text: string): CmdlineWord[] {
  const words: CmdlineWord[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && isSpace(text[i]!)) i++;
    if (i >= n) break;
    let word = "";
    let quoted = false;
    while (i < n && (quoted || !isSpace(text[i]!))) {
      const c = text[i]!;
      if (c === '"') quoted = !quoted;
      else word += c;
      i++;
    }
    const eq = word.indexOf("=");
    words.push(eq < 0 ? { name: word, value: null } : { name: word.slice(0, eq), value: word.slice(eq + 1) });
  }
  return words;
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

/**
 * The environment PID 1 would see: the kernel hands `name=value` words it does
 * not know to init as environment variables, except names with a '.' (module
 * parameters). Later words override earlier ones.
 */
export function cmdlineEnvironment(words: CmdlineWord[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const w of words) {
    if (w.value === null || w.name.includes(".") || w.name === "") continue;
    env.set(w.name, w.value);
  }
  return env;
}
