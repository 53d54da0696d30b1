// POSIX path arithmetic without Node.js: the init and the saver run on a
// small engine too, where node:path does not exist. The same answers as
// node:path/posix for the calls ramstack makes (a unit test compares them).

/** Collapse "." and "..", repeated and trailing slashes; "" becomes ".". */
export function normalize(p: string): string {
  const abs = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length && out[out.length - 1] !== "..") out.pop();
      else if (!abs) out.push("..");
      continue;
    }
    out.push(part);
  }
  const s = out.join("/");
  return abs ? `/${s}` : s || ".";
}

export function join(...parts: string[]): string {
  const s = parts.filter((x) => x !== "").join("/");
  return s === "" ? "." : normalize(s);
}

/** An absolute path from CWD and the paths after it, as path.resolve does with process.cwd(). */
export function resolveFrom(cwd: string, ...paths: string[]): string {
  let acc = "";
  for (let i = paths.length - 1; i >= 0 && !acc.startsWith("/"); i--) {
    const p = paths[i]!;
    if (p !== "") acc = acc ? `${p}/${acc}` : p;
  }
  if (!acc.startsWith("/")) acc = acc ? `${cwd}/${acc}` : cwd;
  return normalize(acc);
}

export function dirname(p: string): string {
  if (p === "") return ".";
  const trimmed = p.replace(/\/+$/, "");
  if (trimmed === "") return "/";
  const i = trimmed.lastIndexOf("/");
  if (i < 0) return ".";
  const d = trimmed.slice(0, i).replace(/\/+$/, "");
  return d === "" ? "/" : d;
}

export function basename(p: string): string {
  const trimmed = p.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** The path from FROM to TO, both absolute. */
export function relative(from: string, to: string): string {
  const a = normalize(from).split("/").filter(Boolean);
  const b = normalize(to).split("/").filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => ".."), ...b.slice(i)].join("/");
}
