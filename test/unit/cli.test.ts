// `ramstack plan` as a user runs it: the built binary, real files, exit codes;
// `ramstack save`'s argument parsing, which needs no running system.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { OptionDef } from "../../src/cli/args.js";
import { optionsHelp, optionValue, parseArgs } from "../../src/cli/args.js";
import type { SaveRequest } from "../../src/cli/save.js";
import { parseSave } from "../../src/cli/save.js";
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
  const good = write(
    "m.json",
    machine([disk("sdb", "usb", [part("sdb1", "ext4", frugal("/puppy", saveFolder("/puppy/tinysave")))])]),
  );
  it("prints a readable plan", () => {
    const r = run("plan", "--machine", good, "--cmdline", "psubdir=puppy");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^PUPMODE 13 \(flash/m);
    assert.match(r.stdout, /save +\/pup_ro1 +sdb1:\/puppy\/tinysave/);
    assert.match(r.stdout, /Why:\n/);
  });
  it("--ops prints the operations the init would perform, step by step; --json gives them as data", () => {
    const r = run("plan", "--machine", good, "--cmdline", "psubdir=puppy", "--ops");
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^the save's partition sdb1 \(if it fails: boot in RAM, the save untouched\):\n {2}mount -o move \/mnt\/sdb1 \/mnt\/dev_save$/m,
    );
    assert.match(r.stdout, /^ {2}ln -s \/mnt\/dev_save\/puppy\/tinysave\/upper \/pup_ro1$/m);
    assert.match(
      r.stdout,
      /^ {2}mount -t overlay -o lowerdir=\/pup_ro1:\/pup_ro2:\/pup_z,upperdir=\/mnt\/tmpfs\/pup_rw,.*xino=on unionfs \/pup_new$/m,
    );
    assert.match(r.stdout, /^ {2}switch_root \/pup_new \/sbin\/init/m);
    const j = run("plan", "--machine", good, "--cmdline", "psubdir=puppy", "--ops", "--json");
    const steps = JSON.parse(j.stdout) as { name: string; onFail: string; ops: { op: string }[] }[];
    // The RAM layer, the save's partition, the main SFS (it carries the save's tools), then the save.
    assert.deepEqual(
      steps.slice(0, 4).map((x) => [x.name, x.onFail]),
      [
        ["the RAM layer", "abort"],
        ["the save's partition sdb1", "save"],
        ["puppy puppy_tiny_1.0.0.sfs", "abort"],
        ["the save sdb1:/puppy/tinysave", "save"],
      ],
    );
    assert.equal(steps.at(-1)!.ops.at(-1)!.op, "switch-root");
  });
  it("prints JSON in the documented shape", () => {
    const r = run("plan", "--machine", good, "--cmdline=psubdir=puppy", "--json");
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout);
    assert.equal(p.pupmode, 13);
    assert.equal(p.unionfs, "overlay");
    assert.deepEqual(Object.keys(p.layers[0]).slice(0, 4), ["role", "partition", "path", "ram"]);
    assert.deepEqual(p.save, {
      kind: "folder",
      partition: "sdb1",
      path: "/puppy/tinysave",
      flash: true,
      fstype: "ext4",
      layout: "overlay",
    });
    assert.equal(p.fatal, null);
    assert.ok(Array.isArray(p.warnings) && Array.isArray(p.log));
  });
  it("exits 1 when the boot would stop at a shell", () => {
    const r = run("plan", "--machine", write("empty.json", machine([])), "--json");
    assert.equal(r.status, 1);
    assert.match(JSON.parse(r.stdout).fatal, /not found/);
  });
  it("answers questions", () => {
    const two = write(
      "two.json",
      machine([
        disk("sda", "ata", [
          part("sda1", "ext4", frugal("", { ...saveFolder("/tinysave"), ...saveFolder("/tinysave-b") })),
        ]),
      ]),
    );
    const asked = JSON.parse(run("plan", "--machine", two, "--json").stdout);
    assert.equal(asked.questions[0].id, "save-choice");
    const answered = JSON.parse(run("plan", "--machine", two, "--json", "--answer", "save-choice=2").stdout);
    assert.equal(answered.save.path, "/tinysave-b");
  });
  const bad: [string, string[], RegExp][] = [
    ["no machine", ["plan"], /--machine FILE.json is required/],
    ["unreadable file", ["plan", "--machine", "/nonexistent.json"], /cannot read \/nonexistent.json: ENOENT/],
    ["not JSON", ["plan", "--machine", write("bad.json", "{oops")], /is not valid JSON/],
    [
      "wrong shape",
      [
        "plan",
        "--machine",
        write("shape.json", { ramMiB: -1, initrd: {}, disks: [{ name: "sda", transport: "floppy", partitions: [] }] }),
      ],
      /machine.ramMiB: expected a number >= 0\n.*machine.initrd.DISTRO_SPECS: expected a string\n.*transport: expected one of/s,
    ],
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
    for (const name of [
      "pmedia",
      "psubdir",
      "pupsfs",
      "psave",
      "pfix",
      "punionfs",
      "waitdev",
      "pkeys",
      "plang",
      "pimod",
      "psavemark",
    ])
      assert.match(params, new RegExp(`^  ${name}=`, "m"));
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

describe("ramstack save's arguments", () => {
  const merge = { do: "merge", json: false, keep: 3, lowers: [] };
  it("without a subcommand: the merge, with the option table's defaults", () => {
    assert.deepEqual(parseSave([]), merge);
    assert.deepEqual(parseSave(["--keep", "5", "--json"]), { ...merge, keep: 5, json: true });
    assert.deepEqual(parseSave(["--save-dir", "/s", "--ram", "/r", "--lower", "/a", "--lower=/b"]), {
      ...merge,
      saveDir: "/s",
      ram: "/r",
      lowers: ["/a", "/b"],
    });
  });
  it("each subcommand, and the older flag that means the same", () => {
    const same: [string[], string[], SaveRequest][] = [
      [
        ["new", "folder"],
        ["--new", "folder"],
        { do: "new", json: false, kind: "folder", sizeMiB: 512, encrypt: false },
      ],
      [
        [
          "new",
          "file",
          "--size",
          "64",
          "--fs",
          "ext2",
          "--encrypt",
          "--name",
          "work",
          "--partition",
          "sdb1",
          "--dir",
          "/saves",
          "--json",
        ],
        [
          "--new",
          "file",
          "--size",
          "64",
          "--fs",
          "ext2",
          "--encrypt",
          "--name",
          "work",
          "--partition",
          "sdb1",
          "--dir",
          "/saves",
          "--json",
        ],
        {
          do: "new",
          json: true,
          kind: "file",
          sizeMiB: 64,
          fs: "ext2",
          name: "work",
          encrypt: true,
          partition: "sdb1",
          dir: "/saves",
        },
      ],
      [
        ["new", "archive"],
        ["--new=archive"],
        { do: "new", json: false, kind: "archive", sizeMiB: 512, encrypt: false },
      ],
      [["list"], ["--list"], { do: "list", json: false }],
      [
        ["list", "--json", "--save-dir", "/s"],
        ["--list", "--json", "--save-dir", "/s"],
        { do: "list", json: true, saveDir: "/s" },
      ],
      [["revert", "2"], ["--revert", "2"], { do: "revert", json: false, generation: 2 }],
      [["revert", "0", "--json"], ["--revert=0", "--json"], { do: "revert", json: true, generation: 0 }],
      [["periodic"], ["--periodic"], { do: "periodic" }],
      [["periodic", "--every", "90s"], ["--periodic", "--every", "90s"], { do: "periodic", everySec: 90 }],
      [["periodic", "--every=30"], ["--every=30", "--periodic"], { do: "periodic", everySec: 1800 }],
      [["shutdown"], ["--shutdown"], { do: "shutdown" }],
    ];
    for (const [sub, old, want] of same) {
      assert.deepEqual(parseSave(sub), want, sub.join(" "));
      assert.deepEqual(parseSave(old), want, old.join(" "));
    }
  });
  it("the older flags keep their order of precedence", () => {
    assert.deepEqual(parseSave(["--list", "--revert", "3"]), { do: "revert", json: false, generation: 3 });
    assert.deepEqual(parseSave(["--periodic", "--shutdown", "--list"]), { do: "periodic" });
    assert.deepEqual(parseSave(["--shutdown", "--new", "folder"]), { do: "shutdown" });
    // The merge's --keep is checked whatever the mode, as before.
    assert.throws(() => parseSave(["--list", "--keep", "x"]), /--keep takes a whole number, not 'x'/);
  });
  it("has a help for each subcommand", () => {
    const text = (args: string[]): string => {
      const r = parseSave(args);
      assert.ok(r.do === "help", args.join(" "));
      return r.text;
    };
    assert.match(text(["--help"]), /^Usage: ramstack save \[--keep N\]/);
    assert.match(text(["--help"]), /--keep N +older generations to keep after a save \(default 3\)/);
    assert.doesNotMatch(
      text(["--help"]),
      /^ +--(new|list|revert|periodic|shutdown|size)\b/m,
      "the older flags are not listed as options",
    );
    assert.match(text(["new", "--help"]), /^Usage: ramstack save new folder\|file\|archive/);
    assert.match(text(["new", "-h"]), /--size MiB +with file: the save file's size \(default 512\)/);
    assert.match(text(["list", "--help"]), /^Usage: ramstack save list/);
    assert.match(text(["revert", "--help"]), /^Usage: ramstack save revert N/);
    assert.match(text(["periodic", "--help"]), /--every TIME/);
    assert.match(text(["shutdown", "--help"]), /^Usage: ramstack save shutdown/);
  });
  const bad: [string[], RegExp, string][] = [
    [["new"], /save new needs a kind: folder, file or archive/, "save new"],
    [["new", "partition"], /save new 'partition' is not one of folder, file, archive/, "save new"],
    [["new", "folder", "--encrypt"], /--encrypt goes with save new file/, "save new"],
    [["new", "file", "--size", "big"], /--size takes a whole number, not 'big'/, "save new"],
    [["new", "file", "--fs", "vfat"], /--fs 'vfat' is not one of ext2, ext3, ext4/, "save new"],
    [["new", "folder", "file"], /unexpected argument 'file'/, "save new"],
    [["new", "folder", "--keep", "2"], /unknown option --keep/, "save new"],
    [["list", "gens"], /unexpected argument 'gens'/, "save list"],
    [["list", "--ram", "/r"], /unknown option --ram/, "save list"],
    [["revert"], /save revert needs a generation number/, "save revert"],
    [["revert", "two"], /save revert takes a whole number, not 'two'/, "save revert"],
    [["periodic", "--every", "soon"], /--every: 'soon' is not a time such as 90s, 30m or 2h/, "save periodic"],
    [["periodic", "--json"], /unknown option --json/, "save periodic"],
    [["shutdown", "now"], /unexpected argument 'now'/, "save shutdown"],
    [["bogus"], /unknown subcommand 'bogus': the subcommands are new, list, revert, periodic, shutdown/, "save"],
    [["--revert", "two"], /--revert takes a whole number, not 'two'/, "save"],
    [["--save-dir", "/s"], /--save-dir needs --ram/, "save"],
  ];
  for (const [args, re, command] of bad) {
    it(`usage error: save ${args.join(" ")}`, () => {
      assert.throws(() => parseSave(args), re);
      const r = run("save", ...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.match(r.stderr, new RegExp(`^ramstack ${command}: .*\\nTry 'ramstack ${command} --help'\\.$`, "m"));
      assert.equal(r.stdout, "");
    });
  }
});

describe("option defaults", () => {
  it("are declared once and shown in the help", () => {
    const defs: OptionDef[] = [
      { name: "size", value: "MiB", default: "512", help: "the size" },
      { name: "old", hidden: true, help: "an older spelling" },
      { name: "json", help: "JSON" },
    ];
    assert.equal(optionsHelp(defs), "  --size MiB  the size (default 512)\n  --json      JSON");
    assert.equal(optionValue(parseArgs([], defs), defs, "size"), "512");
    assert.equal(optionValue(parseArgs(["--size", "64"], defs), defs, "size"), "64");
    assert.throws(() => optionValue(parseArgs([], defs), defs, "nope"), /no option --nope/);
  });
});

describe("ramstack sfs load of a task's layer", () => {
  it("is refused while running, and says how to stack it at boot or add the task", async () => {
    const { runSfs } = await import("../../src/cli/sfs.js");
    const { NodePort } = await import("../../src/port/node.js");
    const out: string[] = [];
    assert.throws(
      () => runSfs(["load", "/tmp/retro_debian_0.1.0.sfs"], (s) => out.push(s), new NodePort()),
      /retro_debian_0\.1\.0\.sfs is the retro task's layer, which is not loaded while running .*ramstack sfs load --boot \/tmp\/retro_debian_0\.1\.0\.sfs stacks it from the next boot, ramstack task add retro installs the task now/,
    );
    assert.deepEqual(out, []);
  });
});

describe("ramstack run's boards", () => {
  const build = (name: string, manifest: Record<string, unknown>): string => {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "build.json"),
      JSON.stringify({
        distro: { name: "t", prefix: "tiny", version: "1" },
        profile: "tiny",
        kernelRelease: "k",
        files: {},
        ...manifest,
      }),
    );
    return dir;
  };
  const amd64 = build("amd64", {});
  const arm64 = build("arm64", { arch: "arm64", dtbs: ["bcm2711-rpi-4-b.dtb"] });
  it("refuses a board of another architecture than the build's", () => {
    const r = run("run", amd64, "--board", "rpi3", "--print-args");
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is built for amd64; the rpi3 board is arm64/);
    const v = run("run", arm64, "--board", "pc", "--print-args");
    assert.match(v.stderr, /is built for arm64; the pc board is amd64/);
  });
  it("names the device tree a Raspberry Pi board needs when the build lacks it", () => {
    const r = run("run", arm64, "--board", "rpi3", "--print-args");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /has no bcm2837-rpi-3-b\.dtb for the rpi3 board/);
  });
  it("refuses disks and options the board does not have", () => {
    const r = run("run", arm64, "--board", "rpi3", "--bus", "nvme", "--print-args");
    assert.match(r.stderr, /the rpi3 board has no nvme disks \(it has: sd, usb\)/);
    assert.match(run("run", arm64, "--board", "nope").stderr, /unknown board 'nope' \(known: pc, virt, rpi3\)/);
  });
  it("takes --card for a card image only, as a power of two", () => {
    const card = join(tmp, "card.img");
    writeFileSync(card, "");
    writeFileSync(`${card}.json`, JSON.stringify({ image: card, board: "rpi3", table: "mbr", partitions: [] }));
    const r = run("run", card, "--card", "1000", "--print-args");
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--card 1000: a card's size in MiB, a power of two/);
    const b = run("run", arm64, "--card", "1024", "--print-args");
    assert.equal(b.status, 2, b.stderr);
    assert.match(b.stderr, /--card is for a Raspberry Pi card image/);
    truncateSync(card, 3 * 1048576);
    const s = run("run", card, "--card", "2", "--print-args");
    assert.notEqual(s.status, 0, s.stderr);
    assert.match(s.stderr, /card\.img is 3 MiB: more than a 2 MiB card/);
    assert.equal(statSync(card).size, 3 * 1048576, "the image is left as it was");
  });
});
