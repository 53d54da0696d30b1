// One command line over a table of verbs: help, version, unknown verbs and
// errors read the same in the host's ramstack (cli/main.ts, Node.js) and the
// running system's (cli/system.ts, the small engine).

import { UsageError } from "./args.js";

export type Verb = {
  run: (argv: readonly string[], out: (s: string) => void) => number | Promise<number>;
  help: string;
};

export const VERSION = "0.1.0";

export async function dispatch(
  verbs: Readonly<Record<string, Verb>>,
  help: string,
  argv: readonly string[],
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "--help" || verb === "-h" || verb === "help") {
    out(help);
    return verb === undefined ? 2 : 0;
  }
  if (verb === "--version") {
    out(VERSION);
    return 0;
  }
  const v = verbs[verb];
  if (!v) {
    err(`ramstack: unknown command '${verb}'\n\n${help}`);
    return 2;
  }
  try {
    return await v.run(rest, out);
  } catch (e) {
    if (e instanceof UsageError) {
      const command = e.command ?? verb;
      err(`ramstack ${command}: ${e.message}\nTry 'ramstack ${command} --help'.`);
      return 2;
    }
    // A failure of a real tool or a bad input: one clear line, no stack trace.
    err(`ramstack ${verb}: ${(e as Error).message}`);
    return 1;
  }
}
