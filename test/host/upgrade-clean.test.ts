// Host tier: the clean-up a save layer gets when a new version first uses it
// (an accepted upgrade or pfix=clean), on a real directory with real
// whiteouts (character devices 0/0, made with mknod).

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { NodePort } from "../../src/port/node.js";
import { upgradeCleanup } from "../../src/init/upgrade-clean.js";
import { run } from "../../src/sys/exec.js";

describe("the version-upgrade clean-up of a save layer", () => {
  const layer = mkdtempSync(join(tmpdir(), "ramstack-upgrade-"));
  after(() => rmSync(layer, { recursive: true, force: true }));
  const file = (rel: string, text = "x\n"): void => {
    mkdirSync(dirname(join(layer, rel)), { recursive: true });
    writeFileSync(join(layer, rel), text);
  };
  const whiteout = (rel: string): void => {
    mkdirSync(dirname(join(layer, rel)), { recursive: true });
    run("mknod", [join(layer, rel), "c", "0", "0"]);
  };

  it("removes old boot scripts, module indexes and whiteouts; keeps rc.local, the user's files and autostart whiteouts", () => {
    file("etc/rc.d/rc.sysinit");
    file("etc/rc.d/rc.shutdown");
    file("etc/rc.d/functions4puppy");
    file("etc/rc.d/rc.local", "mine\n");
    file("etc/rc.d/PUPSTATE");
    file("lib/modules/6.1.0-9-amd64/modules.dep");
    file("lib/modules/6.1.0-9-amd64/modules.alias");
    file("lib/modules/6.1.0-9-amd64/kernel/extra/mine.ko");
    file("root/notes.txt", "kept\n");
    whiteout("bin/vi");
    whiteout("usr/share/doc/deep/gone");
    whiteout("root/.config/autostart/tray.desktop");
    const removed = upgradeCleanup(new NodePort(), layer).sort();
    assert.deepEqual(removed, [
      "bin/vi",
      "etc/rc.d/functions4puppy",
      "etc/rc.d/rc.shutdown",
      "etc/rc.d/rc.sysinit",
      "lib/modules/6.1.0-9-amd64/modules.alias",
      "lib/modules/6.1.0-9-amd64/modules.dep",
      "usr/share/doc/deep/gone",
    ]);
    for (const kept of [
      "etc/rc.d/rc.local",
      "etc/rc.d/PUPSTATE",
      "lib/modules/6.1.0-9-amd64/kernel/extra/mine.ko",
      "root/notes.txt",
      "root/.config/autostart/tray.desktop",
      "usr/share/doc/deep",
    ]) {
      assert.ok(existsSync(join(layer, kept)), `${kept} is kept`);
    }
    assert.deepEqual(upgradeCleanup(new NodePort(), layer), [], "a second clean-up finds nothing");
  });
});
