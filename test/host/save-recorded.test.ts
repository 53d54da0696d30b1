// Host tier: saver decisions against the recording fake of the port
// (src/port/recording.ts): the save lock, and a flash-mode save (PUPMODE 13)
// of the running system as PUPSTATE and /initrd describe it, checked call by
// call. The files live under the fake's root.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import type { RecordingOptions } from "../../src/port/recording.js";
import { RecordingPort } from "../../src/port/recording.js";
import { saveLock } from "../../src/save/running.js";
import { runningTarget, saveSession, withLock } from "../../src/save/session.js";
import { shutdownSave } from "../../src/save/shutdown.js";

process.umask(0o022);
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A fake whose root holds `files` (a path ending in / is a directory, "-> T" a symlink to T); directories 0755, files 0644. */
function fake(files: Record<string, string>, o: Partial<Omit<RecordingOptions, "root">> = {}): RecordingPort {
  const root = mkdtempSync(join(tmpdir(), "ramstack-save-rec-"));
  roots.push(root);
  for (const [path, content] of Object.entries({ "/tmp/": "", ...files })) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    if (path.endsWith("/")) {
      mkdirSync(full, { recursive: true });
      chmodSync(full, 0o755);
    } else if (content.startsWith("-> ")) symlinkSync(content.slice(3), full);
    else {
      writeFileSync(full, content);
      chmodSync(full, 0o644);
    }
  }
  return new RecordingPort({ root, ...o });
}

describe("the save lock, recorded", () => {
  it("free: taken with this process's id, and given back", () => {
    const port = fake({});
    const seen = withLock(port, "/tmp/s.lock", () => port.readText("/tmp/s.lock"));
    assert.equal(seen, "4242");
    assert.deepEqual(port.calls, ["write /tmp/s.lock (new)", "rm -rf /tmp/s.lock"]);
  });

  it("held by a running save: refused, the lock left alone", () => {
    const port = fake({ "/tmp/s.lock": "777" }, { alivePids: [777] });
    assert.throws(
      () => withLock(port, "/tmp/s.lock", () => assert.fail("ran under another's lock")),
      /another save is running \(process 777\)/,
    );
    assert.deepEqual(port.calls, ["write /tmp/s.lock (new)"]);
    assert.equal(port.readText("/tmp/s.lock"), "777");
  });

  it("left by a killed save: taken over", () => {
    const port = fake({ "/tmp/s.lock": "777" });
    withLock(port, "/tmp/s.lock", () => undefined);
    assert.deepEqual(port.calls, [
      "write /tmp/s.lock (new)",
      "rm -rf /tmp/s.lock",
      "write /tmp/s.lock (new)",
      "rm -rf /tmp/s.lock",
    ]);
  });
});

describe("a flash-mode save, recorded", () => {
  it("PUPMODE 13: the save's layer linked, the RAM layer's change copied, the generation committed; line by line", () => {
    const port = fake(
      {
        "/etc/rc.d/PUPSTATE": "PUPMODE=13\nPUPSFS='sda1,ext4,/puppy.sfs'\n",
        "/initrd/pup_ro1": "-> /save/upper",
        "/initrd/pup_rw": "-> /ram",
        "/initrd/pup_ro2/": "",
        "/save/upper/etc/old": "kept",
        "/ram/etc/motd": "hello",
      },
      {
        mounts: [
          {
            source: "overlay",
            target: "/",
            fstype: "overlay",
            options: "rw,lowerdir=/pup_ro1:/pup_ro2,upperdir=/pup_rw/upper",
          },
        ],
      },
    );
    const t = runningTarget("/", port);
    assert.deepEqual(t, { save: "/save", ram: "/ram", lowers: ["/initrd/pup_ro2"], protect: [] });
    if ("nothing" in t) return;
    const lock = saveLock(t.save, port);
    const r = saveSession(t, { keep: 3, lock }, port);
    assert.equal(r.generation, 1);
    assert.deepEqual(r.recovered, []);
    const g = "/save/.gen/0001.partial";
    const meta = (p: string, mode: string): string[] => [
      `chown -h ${process.getuid!()}:${process.getgid!()} ${p}`,
      `chmod ${mode} ${p}`,
      `touch -h ${p}`,
    ];
    assert.deepEqual(port.calls, [
      `write ${lock} (new)`,
      // The current layer (a plain upper/) hard-linked into the new generation.
      `ln /save/upper/etc/old ${g}/etc/old`,
      ...meta(`${g}/etc`, "0755"),
      ...meta(g, "0755"),
      // The RAM layer's new file: written beside, then renamed into place.
      `cp /ram/etc/motd ${g}/etc/.ramstack-tmp-motd`,
      ...meta(`${g}/etc/.ramstack-tmp-motd`, "0644"),
      `mv ${g}/etc/.ramstack-tmp-motd ${g}/etc/motd`,
      ...meta(`${g}/etc`, "0755"),
      // Committed: on disk before each rename; upper/ kept as generation 0.
      "sync -f /save",
      `mv ${g} /save/.gen/0001`,
      "mv /save/upper /save/.gen/0000",
      "ln -s .gen/0001 /save/.upper.new",
      "sync -f /save",
      "mv /save/.upper.new /save/upper",
      "sync -f /save",
      `rm -rf ${lock}`,
    ]);
    assert.deepEqual(r.stats, {
      files: 1,
      unchanged: 0,
      symlinks: 0,
      dirs: 1,
      hardlinks: 0,
      deleted: 0,
      whiteouts: 0,
      skipped: 0,
      bytes: 5,
    });
    assert.equal(readlinkSync(port.path("/save/upper")), ".gen/0001");
    assert.equal(readFileSync(port.path("/save/.gen/0001/etc/motd"), "utf8"), "hello");
    assert.equal(readFileSync(port.path("/save/.gen/0001/etc/old"), "utf8"), "kept");
    assert.equal(readFileSync(port.path("/save/.gen/0000/etc/old"), "utf8"), "kept");
  });

  it("PUPMODE 12: nothing to merge, nothing done", () => {
    const port = fake({ "/etc/rc.d/PUPSTATE": "PUPMODE=12\n" });
    assert.deepEqual(runningTarget("/", port), {
      nothing: "PUPMODE 12: the save is the writable layer, so everything is already on disk",
    });
    assert.deepEqual(port.calls, []);
  });
});

describe("the shutdown path, recorded", () => {
  const shutdown = (port: RecordingPort): number =>
    shutdownSave({ ask: (q, t, o) => port.ask(q, t, o), say: (l) => port.say(l), port });
  const flash = {
    "/etc/rc.d/PUPSTATE": "PUPMODE=13\n",
    "/initrd/pup_ro1": "-> /save/upper",
    "/initrd/pup_rw": "-> /ram",
    "/save/upper/": "",
    "/ram/": "",
    "/initrd/mnt/dev_save/fsckme.flg": "sda1,ext4,\n",
  };

  it("PUPMODE 13, the question not answered in time: nothing saved, the clean-shutdown mark still removed", () => {
    const port = fake(flash, { answers: [null] });
    assert.equal(shutdown(port), 0);
    assert.deepEqual(port.calls, ["ask", "rm -rf /initrd/mnt/dev_save/fsckme.flg"]);
    assert.deepEqual(port.said, [
      "Save this session to /save? [Y/n] (60 s, then not saved) ",
      "No answer: the session is not saved.",
    ]);
  });

  it("PUPMODE 13 with ASKTOSAVE=false: saved without a question", () => {
    const port = fake({ ...flash, "/etc/eventmanager": "ASKTOSAVE=false\n", "/ram/note": "x" });
    assert.equal(shutdown(port), 0);
    assert.ok(!port.calls.includes("ask"));
    assert.ok(port.calls.includes("mv /save/.upper.new /save/upper"));
    assert.equal(port.said.at(-1), "Saved generation 1: 1 files written, 0 deleted.");
  });

  it("PUPMODE 5 after this session's first save: not offered again", () => {
    const port = fake({ "/etc/rc.d/PUPSTATE": "PUPMODE=5\n", "/tmp/ramstack-first-save": "sda1:/puppysave\n" });
    assert.equal(shutdown(port), 0);
    assert.deepEqual(port.calls, []);
    assert.match(port.said[0]!, /made its first save earlier \(sda1:\/puppysave\)/);
  });
});
