// Progress: lines at each tenth off a terminal, one bar redrawn in place on
// one, nothing for --json; output pieces split into lines for the parsers.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lineProgress, percent, progress } from "../../src/lib/progress.js";
import { lineSplitter } from "../../src/sys/exec.js";

function recorder(terminal: boolean): { out: { terminal: boolean; write: (t: string) => void }; text: () => string } {
  let text = "";
  return { out: { terminal, write: (t) => void (text += t) }, text: () => text };
}

describe("progress", () => {
  it("off a terminal: a line at each tenth reached, each once, and a last line when done", () => {
    const r = recorder(false);
    const p = progress(r.out, "build: zdrv.sfs");
    for (const done of [0, 5, 9, 10, 34, 35, 99, 100, 100]) p.update(done, 100);
    p.end("70 MiB");
    assert.deepEqual(r.text().split("\n"), [
      "build: zdrv.sfs: 0%",
      "build: zdrv.sfs: 10%",
      "build: zdrv.sfs: 30%",
      "build: zdrv.sfs: 90%",
      "build: zdrv.sfs: 100%",
      "build: zdrv.sfs: done, 70 MiB",
      "",
    ]);
  });

  it("starts again after end (the next partition of an image)", () => {
    const r = recorder(false);
    const p = progress(r.out, "image");
    p.update(50, 100);
    p.end();
    p.update(50, 100, "of 8 MiB");
    assert.equal(r.text(), "image: 50%\nimage: 50% of 8 MiB\n");
  });

  it("on a terminal: one line redrawn in place, at most every 100 ms, always at 100%", () => {
    const r = recorder(true);
    let now = 0;
    const p = progress(r.out, "save", () => now);
    p.update(1, 4, "1 file");
    now = 50;
    p.update(2, 4, "2 files"); // too soon: not drawn
    now = 200;
    p.update(3, 4, "3 files");
    now = 210;
    p.update(4, 4, "4 files");
    p.end();
    const draws = r.text().split("\r").filter(Boolean);
    assert.equal(draws.length, 3, JSON.stringify(r.text()));
    assert.match(draws[0]!, /^save \[#{6}\.{18}\] {2}25% 1 file$/);
    assert.match(draws[1]!, /^save \[#{18}\.{6}\] {2}75% 3 files$/);
    assert.match(draws[2]!, /^save \[#{24}\] 100% 4 files {0}\n$/);
    assert.ok(!r.text().includes("2 files"));
  });

  it("on a terminal: a note is a line of its own and the bar comes back under it", () => {
    const r = recorder(true);
    const p = progress(r.out, "build: mmdebstrap", () => 1000);
    p.update(10, 100);
    p.note("downloading packages");
    assert.equal(
      r.text(),
      "\rbuild: mmdebstrap [##......................]  10%" +
        "\r" +
        " ".repeat(49) +
        "\r" +
        "build: mmdebstrap: downloading packages\n" +
        "\rbuild: mmdebstrap [##......................]  10%",
    );
  });

  it("a shorter redraw rubs out what the longer one left", () => {
    const r = recorder(true);
    let now = 0;
    const p = progress(r.out, "x", () => now);
    p.update(1, 10, "a long detail");
    now = 1000;
    p.update(2, 10, "short");
    const last = r.text().split("\r").pop()!;
    assert.equal(last, "x [#####...................]  20% short" + " ".repeat(8));
  });

  it("writes nothing without a place to write (--json)", () => {
    const p = progress(null, "save");
    p.update(1, 2);
    p.note("x");
    p.end("done");
  });

  it("percent is whole, bounded, and 0 of nothing", () => {
    assert.equal(percent(1, 3), 33);
    assert.equal(percent(5, 4), 100);
    assert.equal(percent(-1, 4), 0);
    assert.equal(percent(3, 0), 0);
  });

  it("through a function that prints lines (the shutdown's messages)", () => {
    const lines: string[] = [];
    const p = progress(
      lineProgress((l) => lines.push(l)),
      "saving",
    );
    p.update(1, 2, "1 files, 0.0 MiB");
    p.end("2 files");
    assert.deepEqual(lines, ["saving: 50% 1 files, 0.0 MiB", "saving: done, 2 files"]);
  });

  it("lineSplitter: lines ended by \\r or \\n, across pieces, blank ones dropped", () => {
    const lines: string[] = [];
    const feed = lineSplitter((l) => lines.push(l));
    feed("\r[==  ] 1/4  25");
    feed("%\r[====] 4/4 100%\n\nI: done");
    assert.deepEqual(lines, ["[==  ] 1/4  25%", "[====] 4/4 100%"]);
    feed("\n");
    assert.deepEqual(lines.slice(2), ["I: done"]);
  });
});
