// `ramstack plan` as a user runs it: the built binary, real files, exit codes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { disk, frugal, machine, part, saveFolder } from "../helpers/machines.js";

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, "../../src/cli/main.js");
const root = join(here, "../../..");
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
const tmp = mkdtempSync(join(tmpdir(), "ramstack-cli-"));
const write = (name: string, data: unknown): string => {
  const f = join(tmp, name);
  writeFileSync(f, typeof data === "string" ? data : JSON.stringify(data));
  return f;
};

describe("ramstack plan", () => {
  const good = write("m.json", machine([disk("sdb", "usb", [part("sdb1", "ext4", frugal("/puppy", saveFolder("/puppy/tinysave")))])]));
  it("prints a readable plan", () => {
    const r = run("plan", "--machine", good, "--cmdline", "psubdir=puppy");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^PUPMODE 13 \(flash/m);
    assert.match(r.stdout, /save +\/pup_ro1 +sdb1:\/puppy\/tinysave/);
    assert.match(r.stdout, /Why:\n/);
  });
  it("prints JSON in the documented shape", () => {
    const r = run("plan", "--machine", good, "--cmdline=psubdir=puppy", "--json");
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout);
    assert.equal(p.pupmode, 13);
    assert.equal(p.unionfs, "overlay");
    assert.deepEqual(Object.keys(p.layers[0]).slice(0, 4), ["role", "partition", "path", "ram"]);
    assert.deepEqual(p.save, { kind: "folder", partition: "sdb1", path: "/puppy/tinysave", flash: true, fstype: "ext4", layout: "overlay" });
    assert.equal(p.fatal, null);
    assert.ok(Array.isArray(p.warnings) && Array.isArray(p.log));
  });
  it("exits 1 when the boot would stop at a shell", () => {
    const r = run("plan", "--machine", write("empty.json", machine([])), "--json");
    assert.equal(r.status, 1);
    assert.match(JSON.parse(r.stdout).fatal, /not found/);
  });
  it("answers questions", () => {
    const two = write("two.json", machine([disk("sda", "ata", [part("sda1", "ext4", frugal("", { ...saveFolder("/tinysave"), ...saveFolder("/tinysave-b") }))])]));
    const asked = JSON.parse(run("plan", "--machine", two, "--json").stdout);
    assert.equal(asked.questions[0].id, "save-choice");
    const answered = JSON.parse(run("plan", "--machine", two, "--json", "--answer", "save-choice=2").stdout);
    assert.equal(answered.save.path, "/tinysave-b");
  });
  const bad: [string, string[], RegExp][] = [
    ["no machine", ["plan"], /--machine FILE.json is required/],
    ["unreadable file", ["plan", "--machine", "/nonexistent.json"], /cannot read \/nonexistent.json: ENOENT/],
    ["not JSON", ["plan", "--machine", write("bad.json", "{oops")], /is not valid JSON/],
    ["wrong shape", ["plan", "--machine", write("shape.json", { ramMiB: -1, initrd: {}, disks: [{ name: "sda", transport: "floppy", partitions: [] }] })],
      /machine.ramMiB: expected a number >= 0\n.*machine.initrd.DISTRO_SPECS: expected a string\n.*transport: expected one of/s],
    ["unknown option", ["plan", "--machin", "x"], /unknown option --machin/],
    ["bad answer", ["plan", "--machine", good, "--answer", "colour=red"], /the questions are save-choice and upgrade/],
    ["unknown command", ["bogus"], /unknown command 'bogus'/],
  ];
  for (const [name, args, re] of bad) {
    it(`usage error: ${name}`, () => {
      const r = run(...args);
      assert.equal(r.status, 2);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, "");
    });
  }
  it("--help and --params", () => {
    assert.match(run("--help").stdout, /Commands:\n\s+plan/);
    assert.match(run("plan", "--help").stdout, /Exit status: 0/);
    const params = run("plan", "--params").stdout;
    for (const name of ["pmedia", "psubdir", "pupsfs", "psave", "pfix", "punionfs", "waitdev", "pkeys", "plang", "pimod", "psavemark"]) assert.match(params, new RegExp(`^  ${name}=`, "m"));
  });
  it("the shipped examples plan without errors", () => {
    const examples: Record<string, string> = {
      "usb-flash.json": "psubdir=puppy",
      "ambiguous-label.json": "pupsfs=PUPPY",
      "nvme-savemark.json": "psubdir=boot/tiny",
    };
    for (const [ex, cmdline] of Object.entries(examples)) {
      const r = run("plan", "--machine", join(root, "examples", ex), "--cmdline", cmdline, "--json");
      if (ex === "ambiguous-label.json") {
        assert.equal(r.status, 1);
        assert.match(JSON.parse(r.stdout).fatal, /matches more than one partition/);
        continue;
      }
      assert.equal(r.status, 0, `${ex}: ${r.stdout.slice(0, 400)}`);
    }
  });
});
