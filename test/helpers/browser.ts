// A real browser on this machine: Debian's Chromium, headless, driven over
// the DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages
// ended by a NUL byte, written to its fd 3 and read from its fd 4), so no
// WebSocket client or driver package is needed. It opens a page, evaluates
// expressions in it and takes screenshots.

import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

interface Reply {
  id?: number;
  result?: Record<string, unknown>;
  error?: { message: string };
}

export class Browser {
  private next = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private buffered = "";
  private session = "";

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const fromBrowser = child.stdio[4] as Readable;
    fromBrowser.setEncoding("utf8");
    fromBrowser.on("data", (d: string) => {
      this.buffered += d;
      let end: number;
      while ((end = this.buffered.indexOf("\0")) >= 0) {
        const reply = JSON.parse(this.buffered.slice(0, end)) as Reply;
        this.buffered = this.buffered.slice(end + 1);
        if (reply.id !== undefined) this.waiting.get(reply.id)?.(reply);
      }
    });
  }

  /** Chromium started headless, a page open at URL. */
  static async open(url: string, width = 1024, height = 640): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), "ramstack-chromium-"));
    const child = spawn(
      "chromium",
      [
        "--headless",
        "--remote-debugging-pipe",
        // Root has no user namespace sandbox here; the browser only visits the test's guest.
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        `--user-data-dir=${profile}`,
        `--window-size=${width},${height}`,
        "about:blank",
      ],
      { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const b = new Browser(child, profile);
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code) => reject(new Error(`chromium exited (${code}):\n${stderr}`))),
    );
    const started = (async (): Promise<void> => {
      const { targetId } = (await b.send("Target.createTarget", { url })) as { targetId: string };
      const { sessionId } = (await b.send("Target.attachToTarget", { targetId, flatten: true })) as {
        sessionId: string;
      };
      b.session = sessionId;
    })();
    await Promise.race([started, exited]);
    exited.catch(() => undefined);
    return b;
  }

  /** One DevTools command, to the page once it is attached. */
  private send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.next++;
    const message = { id, method, params, ...(this.session ? { sessionId: this.session } : {}) };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`chromium: no answer to ${method} in 60 s`)), 60000);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (r.error) reject(new Error(`chromium: ${method}: ${r.error.message}`));
        else resolve(r.result ?? {});
      });
      (this.child.stdio[3] as Writable).write(JSON.stringify(message) + "\0");
    });
  }

  /** EXPRESSION's value in the page (JSON-serialisable). */
  async evaluate(expression: string): Promise<unknown> {
    const r = (await this.send("Runtime.evaluate", { expression, returnByValue: true })) as {
      result: { value?: unknown };
      exceptionDetails?: { text: string };
    };
    if (r.exceptionDetails) throw new Error(`in the page: ${expression}: ${r.exceptionDetails.text}`);
    return r.result.value;
  }

  /** Ask until EXPRESSION is truthy in the page, for up to MS; its last value. */
  async waitFor(expression: string, ms: number): Promise<unknown> {
    const until = Date.now() + ms;
    for (;;) {
      const v = await this.evaluate(expression).catch(() => undefined);
      if (v || Date.now() > until) return v;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** The page as it is drawn now, as PNG bytes. */
  async screenshot(): Promise<Buffer> {
    const r = (await this.send("Page.captureScreenshot", { format: "png" })) as { data: string };
    return Buffer.from(r.data, "base64");
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise<boolean>((r) => this.child.once("exit", () => r(true)));
      this.child.kill("SIGTERM");
      if (!(await Promise.race([gone, new Promise<boolean>((r) => setTimeout(() => r(false), 5000))])))
        this.child.kill("SIGKILL");
    }
    // Chromium's helper processes (crash handler, utility) may still write to the profile for a moment after
    // the browser itself has exited: a removal that meets a file just written tries again.
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
}
