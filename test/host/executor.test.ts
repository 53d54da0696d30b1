// Host tier: the init's executor (src/init/ops.ts and src/init/execute.ts) run against
// the recording fake of the port (src/port/recording.ts), as Alpine's
// mkinitfs tests run its init with every side effect recorded: a plan from
// the real planner, the steps made from it, and what they do to the machine,
// checked line by line. Files the executor reads (a save's upper/, an SFS to
// copy, an archive) are made under the fake's root.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { bundleForEngine } from "../../src/build/bundle.js";
import { SaveError } from "../../src/init/execute.js";
import { run } from "../../src/sys/exec.js";
import { bootSteps, describeOp, switchSteps } from "../../src/init/ops.js";
import { formatVars } from "../../src/plan/handover.js";
import type { Plan } from "../../src/plan/types.js";
import type { ExecutorCaseName } from "../helpers/executor-cases.js";
import { EXECUTOR_CASES, oneDisk } from "../helpers/executor-cases.js";
import type { Run } from "../helpers/executor-run.js";
import { execute, machineCalls, roots, runRecord } from "../helpers/executor-run.js";
import { frugal, plan, saveFile, saveFolder, SFS, Z } from "../helpers/machines.js";
import { scratch, shippedRamstack } from "../helpers/system.js";

after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A named case, run on Node.js. */
function runCase(name: ExecutorCaseName): Run & { p: Plan } {
  const c = EXECUTOR_CASES[name]();
  return { ...execute(c.plan, c.options), p: c.plan };
}

describe("the executor, recorded (PUPMODE 5, 12, 13, 66, 77)", () => {
  it("PUPMODE 5: the RAM layer, the SFS, the union, the hand-over; line by line", () => {
    const r = runCase("pupmode5");
    assert.equal(r.error, null);
    assert.deepEqual(r.calls, [
      "mount -t tmpfs -o size=50%,mode=755 tmpfs /mnt/tmpfs",
      "chmod 1777 /mnt/tmpfs/tmp",
      "modprobe loop squashfs overlay",
      `mount -t squashfs -o loop,ro,noatime /mnt/sda1/${SFS} /pup_ro2`,
      `mount -t squashfs -o loop,ro,noatime /mnt/sda1/${Z} /pup_z`,
      "mount -t overlay -o lowerdir=/pup_ro2:/pup_z,upperdir=/mnt/tmpfs/pup_rw,workdir=/mnt/tmpfs/pup_work,metacopy=off,xino=on unionfs /pup_new",
      "write /pup_new/etc/rc.d/PUPSTATE",
      "write /pup_new/etc/rc.d/BOOTCONFIG",
      "mount -o move /mnt/sda1 /pup_new/initrd/mnt/sda1",
      "mount -o move /mnt/tmpfs /pup_new/initrd/mnt/tmpfs",
      "mount -o move /pup_ro2 /pup_new/initrd/pup_ro2",
      "mount -o move /pup_z /pup_new/initrd/pup_z",
      "ln -s /initrd/mnt/tmpfs/pup_rw /pup_new/initrd/pup_rw",
      "ln -s /initrd/mnt/tmpfs/tmp /pup_new/tmp",
      "cp /tmp/bootinit.log /pup_new/initrd/tmp/bootinit.log",
    ]);
    assert.match(readFileSync(join(r.root, "pup_new/etc/rc.d/PUPSTATE"), "utf8"), /^PUPMODE='5'$/m);
    assert.deepEqual(
      r.outcome.steps.map((s) => s.result),
      ["done", "done", "done", "done", "done"],
    );
  });

  it("PUPMODE 12, save folder: the partition moved to /mnt/dev_save once, /pup_rw a link to the save's upper; line by line", () => {
    const r = runCase("saveFolder");
    assert.equal(r.error, null);
    assert.deepEqual(r.calls, [
      "mount -t tmpfs -o size=50%,mode=755 tmpfs /mnt/tmpfs",
      "chmod 1777 /mnt/tmpfs/tmp",
      "mount -o move /mnt/sda1 /mnt/dev_save",
      // The main SFS before the save: it carries the tools a save may need.
      "modprobe loop squashfs overlay",
      `mount -t squashfs -o loop,ro,noatime /mnt/dev_save/${SFS} /pup_ro2`,
      "write /tmp/save-layer",
      "ln -s /mnt/dev_save/tinysave/upper /pup_rw",
      "ln -s /mnt/dev_save/tinysave/work /pup_work",
      `mount -t squashfs -o loop,ro,noatime /mnt/dev_save/${Z} /pup_z`,
      "mount -t overlay -o lowerdir=/pup_ro2:/pup_z,upperdir=/pup_rw,workdir=/pup_work,metacopy=off,xino=on unionfs /pup_new",
      "write /mnt/dev_save/fsckme.flg",
      "write /pup_new/etc/rc.d/PUPSTATE",
      "write /pup_new/etc/rc.d/BOOTCONFIG",
      "mount -o move /mnt/dev_save /pup_new/initrd/mnt/dev_save",
      "mount -o move /mnt/tmpfs /pup_new/initrd/mnt/tmpfs",
      "mount -o move /pup_ro2 /pup_new/initrd/pup_ro2",
      "mount -o move /pup_z /pup_new/initrd/pup_z",
      "ln -s /initrd/mnt/dev_save/tinysave/upper /pup_new/initrd/pup_rw",
      "ln -s /initrd/mnt/tmpfs/tmp /pup_new/tmp",
      "cp /tmp/bootinit.log /pup_new/initrd/tmp/bootinit.log",
      "cp /tmp/save-layer /pup_new/initrd/tmp/save-layer",
    ]);
    assert.equal(
      readFileSync(join(r.root, "pup_new/initrd/tmp/save-layer"), "utf8"),
      "upper\n",
      "a plain upper/ is the layer",
    );
    assert.equal(readlinkSync(join(r.root, "pup_new/initrd/pup_rw")), "/initrd/mnt/dev_save/tinysave/upper");
  });

  it("PUPMODE 12, save file: its filesystem at /pup_loop; the current generation recorded", () => {
    const r = runCase("saveFile");
    assert.equal(r.error, null);
    assert.deepEqual(machineCalls(r).slice(0, 5), [
      "mount -t tmpfs -o size=50%,mode=755 tmpfs /mnt/tmpfs",
      "mount -o move /mnt/sda1 /mnt/dev_save",
      // The first filesystem's modules bring the stack's own (one modprobe).
      "modprobe loop squashfs overlay",
      `mount -t squashfs -o loop,ro,noatime /mnt/dev_save/${SFS} /pup_ro2`,
      "mount -t ext4 -o loop,rw,noatime /mnt/dev_save/tinysave.4fs /pup_loop",
    ]);
    assert.equal(
      readFileSync(join(r.root, "pup_new/initrd/tmp/save-layer"), "utf8"),
      ".gen/0003\n",
      "the generation the union stacks",
    );
    assert.ok(r.calls.includes("ln -s /pup_loop/upper /pup_rw"));
    assert.ok(r.calls.includes("ln -s /initrd/pup_loop/upper /pup_new/initrd/pup_rw"));
    assert.ok(r.calls.includes("mount -o move /pup_loop /pup_new/initrd/pup_loop"));
  });

  it("PUPMODE 12, whole partition: the partition's root is the save", () => {
    const r = runCase("savePartition");
    assert.equal(r.p.save.kind, "partition");
    assert.equal(r.error, null);
    assert.ok(r.calls.includes("mount -o move /mnt/sda2 /mnt/dev_save"));
    assert.ok(r.calls.includes("ln -s /mnt/dev_save/upper /pup_rw"));
    assert.ok(r.calls.includes("ln -s /initrd/mnt/dev_save/upper /pup_new/initrd/pup_rw"));
  });

  it("PUPMODE 12, LUKS file: the password asked, opened read-only, the version checked by planning again, then read-write", () => {
    const p = plan(oneDisk(frugal("", { "/tinysave_luks.4fs": saveFile(512, {}, { luks: true }) })), "pfix=nocopy");
    assert.equal(p.upgrade.status, "deferred");
    let checked = 0;
    const r = execute(p, {
      mounts: ["sda1"],
      files: { "/pup_loop/upper/": "" },
      answers: ["wrong", "right"],
      passwords: { "/mnt/dev_save/tinysave_luks.4fs": "right" },
      hooks: {
        password: () => null,
        checkUnlockedSave: () => {
          checked++;
          return { use: true, upgrade: { status: "same", reason: "same version", clean: false } };
        },
      },
    });
    // The hook given to the executor asks the port's console in the init; here the fake's answers are used through it.
    assert.ok(r.error instanceof SaveError, "the hook above gives no password: the save stays closed");
    assert.equal(checked, 0);
    const answers = ["wrong", "right"];
    const r2 = execute(p, {
      mounts: ["sda1"],
      files: { "/pup_loop/upper/": "" },
      passwords: { "/mnt/dev_save/tinysave_luks.4fs": "right" },
      hooks: {
        password: () => answers.shift() ?? null,
        checkUnlockedSave: () => ({ use: true, upgrade: { status: "same", reason: "same version", clean: false } }),
      },
    });
    assert.equal(r2.error, null);
    const luks = machineCalls(r2).filter((c) => /cryptsetup|pup_loop/.test(c));
    assert.deepEqual(luks, [
      "cryptsetup open /mnt/dev_save/tinysave_luks.4fs savefile",
      "cryptsetup open /mnt/dev_save/tinysave_luks.4fs savefile",
      "mount -t ext4 -o ro,noatime /dev/mapper/savefile /pup_loop",
      "mount -t ext4 -o remount,rw,noatime /dev/mapper/savefile /pup_loop",
      "mount -o move /pup_loop /pup_new/initrd/pup_loop",
    ]);
    assert.deepEqual(r2.outcome.asked, ["password for sda1:/tinysave_luks.4fs: opened (try 2)"]);
    assert.deepEqual(r2.outcome.upgrade, { status: "same", reason: "same version", clean: false });
    // A version the user declines: the container is closed again and the attempt stops with a SaveError.
    const r3 = execute(p, {
      mounts: ["sda1"],
      files: { "/pup_loop/upper/": "" },
      passwords: { "/mnt/dev_save/tinysave_luks.4fs": "right" },
      hooks: {
        password: () => "right",
        checkUnlockedSave: () => ({ use: false, reason: "the save was made by version 0.0.9" }),
      },
    });
    assert.ok(r3.error instanceof SaveError);
    assert.match(r3.error.message, /made by version 0\.0\.9: not accepted/);
    assert.deepEqual(machineCalls(r3).slice(-3), [
      "mount -t ext4 -o ro,noatime /dev/mapper/savefile /pup_loop",
      "umount /pup_loop",
      "cryptsetup close savefile",
    ]);
    assert.ok(!r3.calls.some((c) => c.includes("remount,rw")), "a declined save is never mounted read-write");
  });

  it("PUPMODE 13: the save below the RAM layer, named /pup_ro1, a link to its upper", () => {
    const r = runCase("pupmode13");
    assert.equal(r.p.pupmode, 13);
    assert.equal(r.error, null);
    assert.ok(r.calls.includes("ln -s /mnt/dev_save/tinysave/upper /pup_ro1"));
    assert.ok(
      r.calls.includes(
        "mount -t overlay -o lowerdir=/pup_ro1:/pup_ro2:/pup_z,upperdir=/mnt/tmpfs/pup_rw,workdir=/mnt/tmpfs/pup_work,metacopy=off,xino=on unionfs /pup_new",
      ),
    );
    assert.ok(r.calls.includes("ln -s /initrd/mnt/tmpfs/pup_rw /pup_new/initrd/pup_rw"));
    assert.ok(r.calls.includes("ln -s /initrd/mnt/dev_save/tinysave/upper /pup_new/initrd/pup_ro1"));
  });

  it("PUPMODE 66: the archive unpacked into a tmpfs at /pup_rw66, which /initrd/pup_rw names", () => {
    const r = runCase("pupmode66");
    const p = r.p;
    assert.equal(p.pupmode, 66);

    assert.equal(r.error, null);
    assert.deepEqual(machineCalls(r).slice(0, 5), [
      "mount -t tmpfs -o size=50%,mode=755 tmpfs /mnt/tmpfs",
      // The main SFS first: its runtime has GNU tar.
      "modprobe loop squashfs overlay",
      `mount -t squashfs -o loop,ro,noatime /mnt/sda1/${SFS} /pup_ro2`,
      "mount -t tmpfs -o size=50%,mode=755 tmpfs /pup_rw66",
      "tar --extract --gzip --file /mnt/sda1/tinysave66.tar.gz --xattrs --xattrs-include=* --numeric-owner --same-permissions --same-owner --directory /pup_rw66/upper",
    ]);
    assert.ok(r.calls.some((c) => c.includes("upperdir=/pup_rw66/upper,workdir=/pup_rw66/work")));
    assert.ok(r.calls.includes("ln -s /initrd/pup_rw66/upper /pup_new/initrd/pup_rw"));
  });

  it("PUPMODE 77: the session folders copied to RAM oldest first; an aufs whiteout becomes an overlay one", () => {
    const r = runCase("pupmode77");
    assert.equal(r.p.pupmode, 77);
    assert.equal(r.error, null);
    assert.deepEqual(
      machineCalls(r).filter((c) => /^(cp|mknod)/.test(c)),
      [
        "cp -af /mnt/sr0/2026-01-01-10-00/root /mnt/tmpfs/pup_ro1",
        "cp -af /mnt/sr0/2026-02-01-10-00/root /mnt/tmpfs/pup_ro1",
        "mknod /mnt/tmpfs/pup_ro1/root/a c 0 0",
        "cp /tmp/bootinit.log /pup_new/initrd/tmp/bootinit.log",
      ],
    );
    assert.ok(r.calls.includes("mount -o bind /mnt/tmpfs/pup_ro1 /pup_ro1"));
  });
});

describe("the executor, recorded: what the machine decides at run time", () => {
  it("a copy to RAM that fails: the SFS is read from the disk, and the outcome says so", () => {
    const r = runCase("copyFails");
    const p = r.p;
    assert.ok(p.layers.find((l) => l.role === "puppy")!.ram);
    assert.equal(r.error, null);
    assert.ok(r.calls.includes(`mount -t squashfs -o loop,ro,noatime /mnt/sda1/${SFS} /pup_ro2`), "from the disk");
    assert.ok(
      r.calls.includes(`mount -t squashfs -o loop,ro,noatime /mnt/tmpfs/${Z} /pup_z`),
      "the other copy went on",
    );
    assert.equal(r.outcome.fallbacks.length, 1);
    assert.match(
      r.outcome.fallbacks[0]!,
      /puppy_tiny_1\.0\.0\.sfs could not be copied to RAM .*No space left on device.*read from the disk/,
    );
    assert.deepEqual(r.outcome.inRam, ["zdrv"]);
    assert.equal(p.layers.find((l) => l.role === "puppy")!.ram, true, "the plan is left as it was made");
  });

  it("an optional layer that fails to mount is left out of the union; the boot goes on", () => {
    const r = runCase("optionalLayerFails");
    assert.equal(r.error, null);
    assert.ok(
      r.calls.some((c) => c.startsWith("mount -t overlay -o lowerdir=/pup_ro2:/pup_z,")),
      r.calls.join("\n"),
    );
    assert.deepEqual(r.outcome.steps.find((s) => s.name.startsWith("adrv"))?.result, "left out");
    assert.match(r.outcome.warnings[0]!, /adrv adrv_tiny_1\.0\.0\.sfs is left out: .*bad superblock/);
  });

  it("the main SFS failing to mount stops the attempt (a shell follows in the init)", () => {
    const r = runCase("mainSfsFails");
    assert.ok(r.error && !(r.error instanceof SaveError));
    assert.match(r.error.message, /I\/O error/);
  });

  it("a failed attempt is unwound: the save's mounts undone newest first, the error a SaveError (the init boots in RAM)", () => {
    const r = runCase("unwound");
    assert.ok(r.error instanceof SaveError);
    assert.match(r.error.message, /the save sda1:\/tinysave\.4fs cannot be used: .*read-only file system/);
    assert.deepEqual(machineCalls(r).slice(-2), [
      "mount -t ext4 -o loop,rw,noatime /mnt/dev_save/tinysave.4fs /pup_loop",
      "umount /pup_loop",
    ]);
    assert.deepEqual(
      r.outcome.steps.map((s) => `${s.name}: ${s.result}`),
      [
        "the RAM layer: done",
        "the save's partition sda1: done",
        `puppy ${SFS}: done`,
        "the save sda1:/tinysave.4fs: failed",
      ],
    );
  });

  it("a save file e2fsck cannot repair is not used", () => {
    const r = runCase("fsckUnrepairable");
    assert.ok(r.error instanceof SaveError);
    assert.deepEqual(machineCalls(r), ["e2fsck -p /mnt/sda1/tinysave.4fs"]);
  });
});

describe("the steps as data", () => {
  it("describe themselves, one line per operation, and end with the switch", () => {
    const p = plan(oneDisk(frugal("", saveFolder("/tinysave"))), "pfix=nocopy,rdsh");
    const lines = [...bootSteps(p, formatVars), ...switchSteps(p)].flatMap((s) => s.ops.map(describeOp));
    assert.ok(lines.includes("mount -o move /mnt/sda1 /mnt/dev_save"));
    assert.ok(lines.includes("ln -s /mnt/dev_save/tinysave/upper /pup_rw"));
    assert.equal(lines.at(-1), "switch_root /pup_new /sbin/init");
    assert.match(lines.at(-6)!, /^sh \(pfix=rdsh/);
    assert.equal(
      lines.at(-5),
      "umount /lib/modules (if mounted; umount -l if busy: the initrd's driver image, deleted with the initramfs)",
    );
  });
  it("a fatal plan has no steps", () => {
    const p = plan(oneDisk({}));
    assert.ok(p.fatal);
    assert.deepEqual(bootSteps(p, formatVars), []);
  });
});

describe("the executor on QuickJS, as the system ships it", () => {
  it("every case gives the same calls, console lines, outcome and error as on Node.js", async () => {
    const [engine] = shippedRamstack();
    const harness = join(scratch("engine-executor"), "executor.js");
    writeFileSync(harness, await bundleForEngine(fileURLToPath(new URL("../engine/executor.js", import.meta.url))));
    const r = run(engine!, [harness], { allowFail: true });
    assert.equal(r.status, 0, r.stderr);
    const onEngine = JSON.parse(r.stdout) as Record<string, unknown>;
    const names = Object.keys(EXECUTOR_CASES) as ExecutorCaseName[];
    assert.deepEqual(Object.keys(onEngine), names);
    for (const name of names) {
      const c = EXECUTOR_CASES[name]();
      // Through JSON, as the engine's record came: the outcome's undefined fields drop out alike.
      const onNode = JSON.parse(JSON.stringify(runRecord(execute(c.plan, c.options)))) as unknown;
      assert.deepEqual(onEngine[name], onNode, `case ${name}`);
    }
  });
});
