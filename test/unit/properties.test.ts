// Property-based tests for the parsers and the planner's robustness.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { tokenizeCmdline } from "../../src/plan/cmdline.js";
import { naturalCompare, resolveId, takeInventory } from "../../src/plan/devices.js";
import { MAX_WAITDEV, parseParams } from "../../src/plan/params.js";
import { parseShellVars, renderShellVars } from "../../src/plan/shellvars.js";
import { decodeSpec } from "../../src/plan/spec.js";
import { normalizePath } from "../../src/plan/tree.js";
import { disk, frugal, machine, part, plan, saveFolder } from "../helpers/machines.js";

const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
const value = fc.string({ unit: fc.constantFrom(..."abcXYZ019/:._-, ="), maxLength: 20 });
const anyText = fc.string({ unit: "binary", maxLength: 80 });

describe("parser properties", () => {
  it("a cmdline of name=value words (values quoted) tokenizes back to the same words", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(word, value), { maxLength: 8 }), (pairs) => {
        const text = pairs.map(([k, v]) => `${k}="${v}"`).join(" ");
        assert.deepEqual(
          tokenizeCmdline(text),
          pairs.map(([name, v]) => ({ name, value: v })),
        );
      }),
    );
  });
  it("tokenizing never throws and yields no empty words", () => {
    fc.assert(fc.property(anyText, (t) => tokenizeCmdline(t).every((w) => w.name !== "" || w.value !== null)));
  });
  it("spec files: rendered values read back unchanged (any single-line text)", () => {
    const line = fc.string({ unit: "grapheme", maxLength: 30 }).filter((s) => !/[\r\n]/.test(s));
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/), line), {
          selector: ([k]) => k,
          maxLength: 6,
        }),
        (entries) => {
          assert.deepEqual([...parseShellVars(renderShellVars(entries)).vars], entries);
        },
      ),
    );
  });
  it("spec files: parsing arbitrary text never throws and only keeps valid names", () => {
    fc.assert(
      fc.property(anyText, (t) => [...parseShellVars(t).vars.keys()].every((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))),
    );
  });
  it("decodeSpec: the id never holds a ':' and a path is always absolute and normalised", () => {
    fc.assert(
      fc.property(value, fc.constantFrom("", "/p", "/a/b"), (v, psub) => {
        const s = decodeSpec(v, psub);
        assert.ok(!s.id.includes(":"));
        if (s.path !== "") {
          assert.ok(s.path.startsWith("/"));
          assert.equal(
            s.isDir
              ? s.path === "/" || (s.path.endsWith("/") && normalizePath(s.path) + "/" === s.path)
              : normalizePath(s.path) === s.path,
            true,
          );
        }
      }),
    );
  });
  it("boot parameters: parsing never throws and waitdev stays within bounds", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom("waitdev", "pfix", "psave", "pmedia", "psavemark", "punionfs", "plang", "pwireless"),
            value,
          ),
        ),
        (pairs) => {
          const r = parseParams(pairs.map(([k, v]) => `${k}="${v}"`).join(" "));
          assert.ok(r.params.waitdev >= 0 && r.params.waitdev <= MAX_WAITDEV);
        },
      ),
    );
  });
  it("natural order is a total order consistent with numbers", () => {
    fc.assert(
      fc.property(fc.nat(200), fc.nat(200), (a, b) => {
        assert.equal(Math.sign(naturalCompare(`sda${a}`, `sda${b}`)), Math.sign(a - b));
        assert.equal(Math.sign(naturalCompare(`sda${a}`, `sdb${b}`)), -1);
      }),
    );
  });
  it("a label prefix resolves only when exactly one partition has it (or one label equals it)", () => {
    const label = fc.stringMatching(/^[A-C]{1,4}$/);
    fc.assert(
      fc.property(fc.uniqueArray(label, { minLength: 1, maxLength: 5 }), label, (labels, id) => {
        const inv = takeInventory(
          machine([
            disk(
              "sda",
              "ata",
              labels.map((l, i) => part(`sda${i + 1}`, "ext4", {}, { label: l })),
            ),
          ]),
        );
        const r = resolveId(id, inv.parts);
        const exact = labels.filter((l) => l === id);
        const prefixed = labels.filter((l) => l.startsWith(id));
        const want =
          exact.length === 1
            ? "found"
            : prefixed.length === 1
              ? "found"
              : prefixed.length > 1
                ? "ambiguous"
                : "missing";
        assert.equal(r.kind, want);
      }),
    );
  });
});

describe("planner robustness", () => {
  const m = machine([
    disk("sda", "ata", [
      part("sda1", "ext4", frugal("/p", saveFolder("/p/tinysave"))),
      part("sda2", "vfat", { "/x": 1 }, { label: "DATA" }),
    ]),
    disk("sdb", "usb", [part("sdb1", "ext4", frugal("", { "/tinysave.4fs": 100 }), { label: "USB" })]),
  ]);
  const params = fc.constantFrom(
    "pmedia",
    "psubdir",
    "pupsfs",
    "psave",
    "pfix",
    "psavemark",
    "punionfs",
    "zdrv",
    "adrv",
    "waitdev",
    "root",
    "isofrom",
    "pkeys",
    "plang",
  );
  it("any cmdline gives a plan: never a crash, a fatal only for the main SFS, and a well-formed stack", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(params, value), { maxLength: 6 }), (pairs) => {
        const p = plan(m, pairs.map(([k, v]) => `${k}="${v}"`).join(" "));
        if (p.fatal === null) {
          assert.equal(p.layers[0]?.role, "rw");
          assert.equal(p.layers.filter((l) => l.role === "puppy").length, 1);
          assert.ok([5, 12, 13, 66, 77].includes(p.pupmode));
          assert.equal(p.save.kind === "none", p.pupmode === 5);
        } else assert.deepEqual(p.layers, []);
      }),
      { numRuns: 300 },
    );
  });
  it("the same input always gives the same plan", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(params, value), { maxLength: 4 }), (pairs) => {
        const c = pairs.map(([k, v]) => `${k}="${v}"`).join(" ");
        assert.deepEqual(plan(m, c), plan(m, c));
      }),
      { numRuns: 50 },
    );
  });
});
