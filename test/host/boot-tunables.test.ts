// Host tier: the init's first act, setting the boot's kernel settings
// (on the recording fake, whose files stand for the machine's: a sysctl
// read as the kernel gives it, with no newline), then what it reads back
// and writes at the switch.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import {
  BOOT_TUNABLES,
  BOOT_TUNABLES_SAVED,
  restoreBootTunables,
  savedBootTunables,
  setBootTunables,
} from "../../src/init/boot-tunables.js";
import type { Port } from "../../src/port/port.js";
import { RecordingPort } from "../../src/port/recording.js";

const dir = mkdtempSync(join(tmpdir(), "ramstack-tunables-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PCP = "/proc/sys/vm/percpu_pagelist_high_fraction";

describe("the boot's kernel settings", () => {
  it("the init saves the old value (a sysctl read has no newline) and sets the boot's", () => {
    const root = join(dir, "root");
    mkdirSync(dirname(join(root, PCP)), { recursive: true });
    mkdirSync(join(root, "tmp"));
    writeFileSync(join(root, PCP), "0");
    const port = new RecordingPort({ root });
    setBootTunables(port);
    assert.equal(readFileSync(join(root, BOOT_TUNABLES_SAVED), "utf8"), `${PCP} 0\n`);
    assert.equal(readFileSync(join(root, PCP), "utf8"), `${BOOT_TUNABLES.find((t) => t.path === PCP)!.value}\n`);
    assert.deepEqual(port.calls, [`write ${PCP}`]);
  });

  it("a kernel without the setting: nothing is saved or written", () => {
    const root = join(dir, "bare");
    mkdirSync(join(root, "tmp"), { recursive: true });
    const port = new RecordingPort({ root });
    setBootTunables(port);
    assert.deepEqual(port.calls, []);
    assert.equal(port.readText(BOOT_TUNABLES_SAVED), undefined);
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
