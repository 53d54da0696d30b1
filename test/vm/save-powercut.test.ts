// VM tier: power cuts during a flash-mode save (QEMU killed mid-save), then a
// reboot: the save holds the old session or the new one, whole. A few rounds
// here; `npm run bench` runs many (BENCH_POWERCUT_ROUNDS).

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { powerCutRound } from "../helpers/powercut.js";
import { testBuild } from "../helpers/system.js";

describe("a power cut during a save", { timeout: 900000 }, () => {
  it("early in the save: the old session is there, whole", async () => {
    const r = await powerCutRound(testBuild(), 200);
    assert.equal(r.outcome, "old");
  });
  it("at a later moment: old or new, whole", async () => {
    const r = await powerCutRound(testBuild(), 2500);
    // powerCutRound throws when the save is a mix of the two sessions.
    assert.match(r.outcome, /^(old|new)$/);
  });
});
