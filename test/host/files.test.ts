// Host tier: the init's copy of its /tmp into the new root, and the port's
// removal (/tmp and /initrd/pup_rw turned into symlinks), on real files.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { copyTreeInto } from "../../src/init/execute.js";
import { NodePort } from "../../src/port/node.js";

const port = new NodePort();
const copyTree = (from: string, to: string): void => copyTreeInto(port, from, to);
const removeIfAny = (p: string): void => port.remove(p);

describe("the hand-over's tree copy, and the port's removal", () => {
  const dir = mkdtempSync(join(tmpdir(), "ramstack-files-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("copies files, directories and symlinks, replacing what the target had", () => {
    const from = join(dir, "from");
    mkdirSync(join(from, "sub/deeper"), { recursive: true });
    writeFileSync(join(from, "bootinit.log"), "log\n");
    writeFileSync(join(from, "sub/deeper/x"), "x");
    symlinkSync("../bootinit.log", join(from, "sub/link"));
    const to = join(dir, "to");
    mkdirSync(join(to, "sub"), { recursive: true });
    writeFileSync(join(to, "bootinit.log"), "old");
    writeFileSync(join(to, "sub/link"), "a file where the link goes");
    writeFileSync(join(to, "kept"), "kept");
    copyTree(from, to);
    assert.equal(readFileSync(join(to, "bootinit.log"), "utf8"), "log\n");
    assert.equal(readFileSync(join(to, "sub/deeper/x"), "utf8"), "x");
    assert.equal(readlinkSync(join(to, "sub/link")), "../bootinit.log");
    assert.equal(readFileSync(join(to, "kept"), "utf8"), "kept");
  });

  it("removes a file, a symlink (not what it points to), an empty and a full directory, and ignores a missing path", () => {
    const file = join(dir, "file");
    writeFileSync(file, "");
    const target = join(dir, "target");
    mkdirSync(join(target, "inside"), { recursive: true });
    const link = join(dir, "link");
    symlinkSync(target, link);
    const empty = join(dir, "empty");
    mkdirSync(empty);
    for (const p of [file, link, empty]) {
      removeIfAny(p);
      assert.equal(existsSync(p) || isLink(p), false, p);
    }
    assert.ok(existsSync(join(target, "inside")), "the link's target stays");
    removeIfAny(target);
    assert.equal(existsSync(target), false);
    removeIfAny(join(dir, "never-there"));
  });
});

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
