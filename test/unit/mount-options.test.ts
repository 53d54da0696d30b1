// Unit tier: mount(8)-style options turned into mount(2)'s flags and data,
// as the QuickJS port calls it (busybox mount's parsing, which it replaces).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mountCall } from "../../src/port/mount-options.js";

describe("mount options as mount(2) takes them", () => {
  it("a loop-mounted SFS: loop, read-only, noatime, no data", () => {
    assert.deepEqual(mountCall(["loop", "ro", "noatime"]), {
      flags: ["MS_NOATIME", "MS_RDONLY"],
      data: "",
      loop: true,
      readOnly: true,
    });
  });
  it("what the filesystem parses goes to data in order; flags do not", () => {
    assert.deepEqual(mountCall(["noatime", "shortname=mixed", "quiet", "utf8", "codepage=850"]), {
      flags: ["MS_NOATIME"],
      data: "shortname=mixed,quiet,utf8,codepage=850",
      loop: false,
      readOnly: false,
    });
    assert.equal(
      mountCall(["lowerdir=/pup_ro2:/pup_z", "upperdir=/u", "workdir=/w", "metacopy=off", "xino=on"]).data,
      "lowerdir=/pup_ro2:/pup_z,upperdir=/u,workdir=/w,metacopy=off,xino=on",
    );
    assert.equal(mountCall(["size=50%", "mode=755"]).data, "size=50%,mode=755");
  });
  it("a later option wins over an earlier one, as in mount(8)", () => {
    assert.deepEqual(mountCall(["ro", "rw"]).flags, []);
    assert.equal(mountCall(["rw", "ro"]).readOnly, true);
    assert.deepEqual(mountCall(["noatime", "relatime"]).flags, ["MS_RELATIME"]);
    assert.deepEqual(mountCall(["remount", "rw", "noatime"]).flags, ["MS_NOATIME", "MS_REMOUNT"]);
  });
  it("defaults, empty options and rbind", () => {
    assert.deepEqual(mountCall(["defaults", ""]), { flags: [], data: "", loop: false, readOnly: false });
    assert.deepEqual(mountCall(["rbind"]).flags, ["MS_BIND", "MS_REC"]);
  });
});
