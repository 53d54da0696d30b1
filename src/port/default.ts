// The port a library function uses when its caller gives none: set once by
// the entry point (the Node.js CLI and init, or the small engine's), so that
// no library module names an implementation and a bundle for the small
// engine carries no Node.js code.

import type { Port } from "./port.js";

let current: Port | undefined;

export function setDefaultPort(port: Port): void {
  current = port;
}

export function defaultPort(): Port {
  if (!current) throw new Error("no port: the entry point must call setDefaultPort() first");
  return current;
}
