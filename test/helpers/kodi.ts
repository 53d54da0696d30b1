// Kodi's JSON-RPC, asked from this machine through a port forwarded to the
// guest's 8080 (the kodi task's web server): the VM test and the bench.

/** One JSON-RPC call to Kodi's web server from this machine; its result, or null while Kodi does not answer. */
export async function kodiRpc(port: number, method: string, params: Record<string, unknown> = {}): Promise<unknown> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/jsonrpc`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(10000),
    });
    const body = (await r.json()) as { result?: unknown; error?: unknown };
    if (body.error !== undefined) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
    return body.result ?? null;
  } catch (e) {
    if (e instanceof Error && e.message.startsWith(`${method}:`)) throw e;
    return null;
  }
}

/** Kodi's current window ({ id, label }), or null while Kodi does not answer. */
export async function kodiWindow(port: number): Promise<{ id: number; label: string } | null> {
  const r = (await kodiRpc(port, "GUI.GetProperties", { properties: ["currentwindow"] })) as {
    currentwindow?: { id: number; label: string };
  } | null;
  return r?.currentwindow ?? null;
}
