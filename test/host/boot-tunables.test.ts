// Host tier: the stub's lines that set the boot's kernel settings, run by
// the initrd's own busybox sh in a private mount namespace (a file bound
// over the sysctl, so the host's own setting is not touched), then what the
// init reads back and writes at the switch.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fetchComponents } from "../../src/build/components.js";
import {
  BOOT_TUNABLES,
  BOOT_TUNABLES_SAVED,
  restoreBootTunables,
  savedBootTunables,
  setBootTunablesSh,
} from "../../src/init/boot-tunables.js";
import type { Port } from "../../src/port/port.js";

const dir = mkdtempSync(join(tmpdir(), "ramstack-tunables-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PCP = "/proc/sys/vm/percpu_pagelist_high_fraction";

describe("the boot's kernel settings", () => {
  it("the stub saves the old value (a sysctl read has no newline) and sets the boot's", () => {
    const busybox = fetchComponents("amd64", () => undefined).busybox.binary;
    writeFileSync(join(dir, "stub.sh"), `${setBootTunablesSh()}\n`);
    // The sysctl as the stub's read sees it: "0" and then the end, with no newline.
    const script = [
      // The script is read before a tmpfs hides this test's directory under /tmp.
      `stub=$(cat ${join(dir, "stub.sh")})`,
      `mount -t tmpfs tmpfs /tmp`,
      `printf 0 > /tmp/sysctl`,
      `mount --bind /tmp/sysctl ${PCP}`,
      `${busybox} sh -c "$stub"`,
      `cat ${BOOT_TUNABLES_SAVED}`,
      `echo ---`,
      `cat ${PCP}`,
    ].join(" && ");
    const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c", script], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const [saved, now] = r.stdout.split("---\n");
    assert.equal(saved, `${PCP} 0\n`);
    assert.equal(now, `${BOOT_TUNABLES.find((t) => t.path === PCP)!.value}\n`);
  });

  it("the init reads back only the settings it knows, and puts them back; a failed write is named", () => {
    const writes: string[] = [];
    const port = {
      readText: (p: string) =>
        p === BOOT_TUNABLES_SAVED ? `${PCP} 0\n/proc/sys/kernel/panic 5\nnot a line\n` : undefined,
      writeText: (p: string, text: string) => {
        if (p.startsWith("/proc/sys/vm/")) writes.push(`${p}=${text}`);
        else throw new Error("EACCES");
      },
    } as unknown as Port;
    const saved = savedBootTunables(port);
    assert.deepEqual(saved, [{ path: PCP, value: "0" }]);
    assert.deepEqual(restoreBootTunables(port, saved), []);
    assert.deepEqual(writes, [`${PCP}=0\n`]);
    assert.deepEqual(restoreBootTunables(port, [{ path: "/sys/module/x/parameters/y", value: "N" }]), [
      "/sys/module/x/parameters/y",
    ]);
  });
});
