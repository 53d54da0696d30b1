// The executor's cases (test/helpers/executor-cases.ts) on QuickJS: bundled
// for the engine by test/host/executor.test.ts and run by the runtime the
// system ships; prints every case's calls, console lines, outcome and error
// as one JSON object, for the Node.js side to compare with its own.

import * as std from "std";
import { setDefaultPort } from "../../src/port/default.js";
import { QuickJsPort } from "../../src/port/quickjs.js";
import { EXECUTOR_CASES } from "../helpers/executor-cases.js";
import { execute, roots, runRecord } from "../helpers/executor-run.js";

const port = new QuickJsPort();
setDefaultPort(port);
const out: Record<string, unknown> = {};
for (const [name, make] of Object.entries(EXECUTOR_CASES)) {
  const c = make();
  out[name] = runRecord(execute(c.plan, c.options, port));
}
for (const r of roots) port.remove(r);
std.out.puts(JSON.stringify(out));
std.out.flush();
