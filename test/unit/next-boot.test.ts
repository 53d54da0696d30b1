// The paths the init and the saver share (src/plan/layout.ts), and the
// saver's verdict on a first save: the next boot's plan says whether it is
// used, never a promise the plan does not keep (src/save/next-boot.ts).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatVars, parsePupstate } from "../../src/plan/handover.js";
import {
  fsckFlagText,
  parseFsckFlag,
  parseMounts,
  pupmodeFacts,
  saveLayerLink,
  saveRootOfLayer,
  unionLowerDirs,
} from "../../src/plan/layout.js";
import { judgeNextBoot } from "../../src/save/next-boot.js";
import { disk, frugal, machine, part, plan, saveFolder, specsText } from "../helpers/machines.js";

describe("layout shared by the init and the saver", () => {
  it("the save layer's link by PUPMODE", () => {
    assert.deepEqual([5, 12, 13, 66, 77].map(saveLayerLink), [null, "/pup_rw", "/pup_ro1", null, null]);
  });
  it("a save's root is what holds the upper/ a link points to", () => {
    assert.equal(saveRootOfLayer("/initrd/mnt/dev_save/puppy/tinysave/upper"), "/initrd/mnt/dev_save/puppy/tinysave");
    assert.equal(saveRootOfLayer("/initrd/pup_loop/upper/"), "/initrd/pup_loop");
    assert.equal(saveRootOfLayer("/upper"), "/");
    assert.equal(saveRootOfLayer("/initrd/mnt/tmpfs/pup_rw"), null);
  });
  it("/proc/mounts: octal escapes decoded, the root union's lower layers top first", () => {
    const m = parseMounts(
      [
        "rootfs / rootfs rw 0 0",
        "unionfs / overlay rw,relatime,lowerdir=/pup_ro1:/pup_ro2:/pup_z,upperdir=/mnt/tmpfs/pup_rw,workdir=/mnt/tmpfs/pup_work,xino=on 0 0",
        "/dev/sdb1 /initrd/mnt/my\\040stick vfat rw 0 0",
      ].join("\n"),
    );
    assert.equal(m[2]!.target, "/initrd/mnt/my stick");
    assert.equal(m[1]!.source, "unionfs");
    assert.deepEqual(unionLowerDirs(m), ["/pup_ro1", "/pup_ro2", "/pup_z"]);
    assert.deepEqual(unionLowerDirs(parseMounts("rootfs / rootfs rw 0 0\n")), []);
  });
});

describe("will the next boot use the new save?", () => {
  const advice = "to use it, boot with psave=SAVES:/saves/";
  const two = (saves: Parameters<typeof part>[2]) =>
    machine([
      disk("sda", "ata", [part("sda1", "ext4", frugal("/p"))]),
      disk("sdb", "ata", [part("sdb1", "ext4", saves, { label: "SAVES" })]),
    ]);

  it("yes, when the plan stacks it", () => {
    const v = judgeNextBoot(
      plan(two(saveFolder("/saves/tinysave")), "psubdir=p psave=SAVES:/saves/"),
      "sdb1",
      "/saves/tinysave",
      advice,
    );
    assert.deepEqual(v, { uses: true, pupmode: 12, says: "the next boot uses it (PUPMODE 12)" });
  });
  it("no, when the next boot looks elsewhere: it says so, and what to do", () => {
    const v = judgeNextBoot(plan(two(saveFolder("/saves/tinysave")), "psubdir=p"), "sdb1", "/saves/tinysave", advice);
    assert.equal(v.uses, false);
    assert.match(v.says, /does NOT use it: it would find no save; to use it, boot with psave=SAVES:\/saves\//);
  });
  it("not for sure, when it is one of several saves: the next boot asks", () => {
    const v = judgeNextBoot(
      plan(
        two({ ...saveFolder("/saves/tinysave"), ...saveFolder("/saves/tinysave-old") }),
        "psubdir=p psave=SAVES:/saves/",
      ),
      "sdb1",
      "/saves/tinysave",
      advice,
    );
    assert.equal(v.uses, false);
    assert.match(v.says, /finds it among 2 saves and asks which one to use \(no answer in 30 s: none\)/);
  });
  it("no, when another save is used instead; the plan's reason is given", () => {
    const old = saveFolder("/saves/tinysave", {}, specsText("ramstack tiny", "0.0.1"));
    const v = judgeNextBoot(plan(two(old), "psubdir=p psave=SAVES:/saves/"), "sdb1", "/saves/tinysave-new", advice);
    assert.equal(v.uses, false);
    assert.match(v.says, /does NOT use it/);
  });
});

describe("PUPSTATE, written by the planner and read by the saver", () => {
  it("round-trips the values the saver uses, typed", () => {
    const m = machine([
      disk("sda", "ata", [part("sda1", "ext4", frugal("/p"))]),
      disk("sdb", "ata", [part("sdb1", "ext4", saveFolder("/saves/tinysave"), { label: "SAVES" })]),
    ]);
    const p = plan(m, "psubdir=p psave=SAVES:/saves/");
    const s = parsePupstate(formatVars(p.pupstate));
    assert.equal(s.pupmode, 12);
    assert.deepEqual(s.pupsave, { partition: "sdb1", fstype: "ext4", path: "/saves/tinysave" });
    assert.deepEqual(s.pupsfs, { partition: "sda1", fstype: "ext4", path: "/p/puppy_tiny_1.0.0.sfs" });
    assert.deepEqual([s.psavepart, s.psavedir, s.psubdir], ["sdb1", "/saves/", "/p"]);
    assert.equal(pupmodeFacts(s.pupmode).saveIsWritable, true);
  });
  it("an empty or broken PUPSTATE is PUPMODE 5 without places", () => {
    const s = parsePupstate("PUPMODE='x'\nPUPSAVE='sda1'\n");
    assert.deepEqual([s.pupmode, s.pupsave, s.pupsfs], [5, null, null]);
  });
  it("the fsckme.flg line round-trips", () => {
    assert.deepEqual(parseFsckFlag(fsckFlagText({ partition: "sda1", fstype: "ext4", file: "/tinysave.4fs" })), {
      partition: "sda1",
      fstype: "ext4",
      file: "/tinysave.4fs",
    });
  });
});
