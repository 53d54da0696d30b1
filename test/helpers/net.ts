// Reaching a guest's services from this machine: a free port to forward,
// and GET as a browser would, retried while the guest's server starts.

import { createServer } from "node:net";

/** A TCP port on 127.0.0.1 that nothing listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** GET a page from this machine: "STATUS BODY"; retried a few times while the guest's server starts. */
export async function get(url: string): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 20; i++) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(10000) });
      return `${r.status} ${await r.text()}`;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  throw new Error(`${url}: no answer (${String(last)})`);
}
