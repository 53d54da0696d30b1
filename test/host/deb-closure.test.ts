// Host tier: the dependency closures the optional layers take, read from
// this machine's apt. For another arch, apt-cache also lists this machine's
// packages that could satisfy a dependency (libc6 beside libc6:arm64): a
// layer built for arm64 must hold arm64's packages only.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { debClosure } from "../../src/build/cache.js";
import { run } from "../../src/sys/exec.js";

const arm64Known = run("dpkg", ["--print-foreign-architectures"], { allowFail: true })
  .stdout.split("\n")
  .includes("arm64");

describe("debClosure", () => {
  it("for this machine's arch: unqualified names, with the C library, never another arch's", () => {
    // e2fsprogs and cryptsetup-bin pull in Multi-Arch packages apt also lists as NAME:arm64.
    const names = debClosure(["nano", "e2fsprogs", "cryptsetup-bin"], new Set());
    assert.ok(names.includes("nano") && names.includes("libc6"), names.join(" "));
    assert.ok(!names.some((n) => n.includes(":")), names.join(" "));
  });

  it(
    "for arm64: arm64's packages only, never this machine's twins",
    { skip: arm64Known ? false : "dpkg does not know arm64 (scripts/setup.sh adds it)" },
    () => {
      const names = debClosure(["nano:arm64", "e2fsprogs:arm64"], new Set(["e2fsprogs"]));
      assert.ok(names.includes("libc6:arm64") && names.includes("libext2fs2:arm64"), names.join(" "));
      assert.ok(!names.includes("libc6") && !names.includes("e2fsprogs:arm64"), names.join(" "));
      assert.deepEqual(
        names.filter((n) => !n.endsWith(":arm64")),
        [],
        "every name is arm64's (none of these is Architecture: all)",
      );
    },
  );

  it("refuses to mix two architectures in one closure", () => {
    assert.throws(() => debClosure(["nano:arm64", "nano:armhf"], new Set()), /cannot mix architectures/);
  });
});
