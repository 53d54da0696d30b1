// The one place that runs subprocesses. Everything else calls run() or
// start(), so errors read the same everywhere and a failure says which
// command failed and what it printed.

import type { ChildProcess, SpawnOptions } from "node:child_process";
import { spawn, spawnSync } from "node:child_process";
import { commandLine, failureMessage } from "../port/commands.js";

export { commandLine };

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv | undefined;
  input?: string | Buffer;
  /** Return stdout as a Buffer instead of text. */
  binary?: boolean;
  /** Do not throw on a non-zero exit; the caller looks at `status`. */
  allowFail?: boolean;
  /** Pass stdio through to this process's terminal (long, chatty commands). */
  inherit?: boolean;
  timeoutMs?: number;
}

export interface RunResult {
  status: number;
  stdout: string;
  stdoutBuf: Buffer;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly status: number,
    readonly stderr: string,
  ) {
    super(failureMessage(command, status, stderr));
  }
}

export function run(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): RunResult {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    input: opts.input,
    stdio: opts.inherit ? "inherit" : "pipe",
    maxBuffer: 1 << 30,
    timeout: opts.timeoutMs,
  });
  if (r.error) throw notStarted(cmd, args, r.error);
  return finished(cmd, args, r.status, r.signal, r.stdout, r.stderr, opts);
}

/** A program that could not be started; a missing one is status 127, as a shell says. */
function notStarted(cmd: string, args: readonly string[], e: NodeJS.ErrnoException): CommandError {
  if (e.code === "ENOENT") return new CommandError(commandLine(cmd, args), 127, `${cmd}: command not found`);
  return new CommandError(commandLine(cmd, args), -1, String(e.message));
}

/** A program's result once it ended; a non-zero exit throws, unless allowFail. */
function finished(
  cmd: string,
  args: readonly string[],
  status: number | null,
  signal: NodeJS.Signals | null,
  stdout: Buffer | null,
  stderr: Buffer | null,
  opts: { binary?: boolean; allowFail?: boolean },
): RunResult {
  const stdoutBuf = stdout ?? Buffer.alloc(0);
  const res: RunResult = {
    status: status ?? (signal ? 128 : -1),
    stdout: opts.binary ? "" : stdoutBuf.toString("utf8"),
    stdoutBuf,
    stderr: (stderr ?? Buffer.alloc(0)).toString("utf8"),
  };
  if (res.status !== 0 && !opts.allowFail)
    throw new CommandError(commandLine(cmd, args), res.status, res.stderr || res.stdout);
  return res;
}

export interface StreamOptions {
  env?: NodeJS.ProcessEnv | undefined;
  /** Each piece of stdout as it comes (progress lines end in \r or \n). */
  onStdout?: (text: string) => void;
  /** Each piece of stderr as it comes. */
  onStderr?: (text: string) => void;
  /** Called every `everyMs` with the process id while the command runs (to look at its /proc). */
  poll?: { everyMs: number; fn: (pid: number) => void };
}

/**
 * run(), with the output seen while the command works (for progress): the
 * same result, and the same failure when it exits non-zero.
 */
export function runStreaming(cmd: string, args: readonly string[], opts: StreamOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    const poll = opts.poll;
    const timer = poll && child.pid !== undefined ? setInterval(() => poll.fn(child.pid!), poll.everyMs) : undefined;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => {
      out.push(b);
      opts.onStdout?.(b.toString("utf8"));
    });
    child.stderr.on("data", (b: Buffer) => {
      err.push(b);
      opts.onStderr?.(b.toString("utf8"));
    });
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearInterval(timer);
      reject(notStarted(cmd, args, e));
    });
    child.on("close", (code, signal) => {
      clearInterval(timer);
      try {
        resolve(finished(cmd, args, code, signal, Buffer.concat(out), Buffer.concat(err), {}));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Complete lines from pieces of output: \r (a redrawn bar) and \n both end one. */
export function lineSplitter(each: (line: string) => void): (text: string) => void {
  let rest = "";
  return (text) => {
    const parts = (rest + text).split(/[\r\n]/);
    rest = parts.pop() ?? "";
    for (const p of parts) if (p.trim()) each(p);
  };
}

const FAILED_MARK = "ramstack-run-all-failed";

export interface RunAllResult {
  /** The index of the command that failed, which ended the run; null when all succeeded. */
  failed: number | null;
  /** Its exit status (0 when all succeeded). */
  status: number;
  /** What the commands printed, stdout and stderr. */
  output: string;
}

/**
 * Commands one after another in one shell, stopping at the first that
 * fails: one process start for all of them. A fork of a large process (node
 * itself) copies its page tables and then takes a copy-on-write fault per
 * page it writes, tens of milliseconds each on an emulated CPU; the shell's
 * own forks are cheap.
 */
export function runAll(commands: readonly (readonly string[])[]): RunAllResult {
  const script = commands
    .map((c, i) => `${commandLine(c[0]!, c.slice(1))} || { s=$?; echo "${FAILED_MARK} ${i} $s" >&2; exit $s; }`)
    .join("\n");
  const r = run("sh", ["-c", script], { allowFail: true });
  let output = (r.stdout + r.stderr).trim();
  const mark = new RegExp(`^${FAILED_MARK} (\\d+) (\\d+)$`, "m").exec(output);
  if (mark) output = output.replace(mark[0], "").trim();
  if (r.status === 0) return { failed: null, status: 0, output };
  // Without the mark the shell itself failed: blame the first command.
  return { failed: mark ? Number(mark[1]) : 0, status: r.status, output };
}

/** Start a long-running process (QEMU) with pipes; the caller owns it. */
export function start(cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], ...opts });
}

/** Is a command on the PATH? */
export function have(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}
