// A deep copy of plain data (arrays, objects, primitives): what
// structuredClone does for the defaults of settings, on engines without it.

export function clonePlain<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x: unknown) => clonePlain(x)) as T;
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clonePlain(x)])) as T;
  return v;
}
