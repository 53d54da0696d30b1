// A local apt repository for the VM tests, so that they never depend on an
// outside mirror: Debian packages fetched once into ramstack's cache
// (apt-get download), indexed here (Packages and an unsigned Release, a
// "flat" repository), and served over HTTP on 127.0.0.1, which the guest
// reaches at 10.0.2.2 through QEMU's user-mode network.

import { createReadStream, linkSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer } from "node:http";
import { basename, join, normalize } from "node:path";
import { fetchDeb } from "../../src/build/cache.js";
import { run } from "../../src/sys/exec.js";
import { sha256 } from "../../src/sys/hash.js";

export interface AptRepo {
  /** The line for the guest's sources.list: apt trusts it without a signature. */
  source: string;
  /** The folder's address, as the guest reaches it (for any file in it, not only packages). */
  url: string;
  close: () => Promise<void>;
}

/** The repository's index entry for one .deb: its control fields, then where it is and its hash. */
function packagesEntry(deb: string, filename: string): string {
  const control = run("dpkg-deb", ["--field", deb]).stdout.trimEnd();
  const bytes = readFileSync(deb);
  return `${control}\nFilename: ${filename}\nSize: ${bytes.length}\nSHA256: ${sha256(bytes)}\n`;
}

/** Index these packages (fetched into the cache if needed) in DIR. */
export function makeAptRepo(pkgs: readonly string[], dir: string): void {
  makeAptRepoOf(
    pkgs.map((p) => fetchDeb(p, () => undefined).path),
    dir,
  );
}

/** Index these .deb files in DIR. */
export function makeAptRepoOf(debs: readonly string[], dir: string): void {
  mkdirSync(join(dir, "pool"), { recursive: true });
  const entries = debs.map((deb) => {
    const name = `pool/${basename(deb)}`;
    linkSync(deb, join(dir, name));
    return packagesEntry(deb, name);
  });
  const packages = entries.join("\n");
  writeFileSync(join(dir, "Packages"), packages);
  writeFileSync(
    join(dir, "Release"),
    [
      "Origin: ramstack-test",
      "Label: ramstack-test",
      "Suite: local",
      "Codename: local",
      `Date: ${new Date(0).toUTCString()}`,
      "Architectures: amd64 all",
      "SHA256:",
      ` ${sha256(packages)} ${Buffer.byteLength(packages)} Packages`,
      "",
    ].join("\n"),
  );
}

/** Serve DIR's files over HTTP on 127.0.0.1 (a free port); the guest sees this machine as 10.0.2.2. */
export async function serveAptRepo(dir: string): Promise<AptRepo> {
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? "/").split("?")[0]!)).replace(/^(\.\.[/\\])+/, "");
    const file = join(dir, path);
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error("not a file");
      size = st.size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-length": size, "content-type": "application/octet-stream" });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    source: `deb [trusted=yes] http://10.0.2.2:${port}/ ./`,
    url: `http://10.0.2.2:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
