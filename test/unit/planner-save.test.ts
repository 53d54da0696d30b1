// Reference sections 1.10 - 1.15: where the save is, what kind, which PUPMODE.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  disk,
  frugal,
  hasLog,
  machine,
  part,
  plan,
  roles,
  saveFile,
  saveFolder,
  SFS,
  specsText,
} from "../helpers/machines.js";

const internal = (files: Parameters<typeof part>[2], fs = "ext4") =>
  machine([disk("sda", "ata", [part("sda1", fs, files)])]);

describe("save discovery (1.12)", () => {
  it("no save: PUPMODE 5 with the tmpfs as the only writable layer", () => {
    const p = plan(internal(frugal()));
    assert.equal(p.pupmode, 5);
    assert.deepEqual(p.save, { kind: "none", partition: null, path: null, flash: false });
    assert.deepEqual([p.layers[0]!.source, p.layers[0]!.path], ["tmpfs", "/mnt/tmpfs/pup_rw"]);
  });
  it("one save folder in psubdir on a fixed disk: PUPMODE 12", () => {
    const p = plan(internal(frugal("/p", saveFolder("/p/tinysave"))), "psubdir=p");
    assert.equal(p.pupmode, 12);
    assert.deepEqual([p.save.kind, p.save.partition, p.save.path], ["folder", "sda1", "/p/tinysave"]);
  });
  it("a save file .4fs, named with -name", () => {
    const p = plan(internal(frugal("", { "/tinysave-work.4fs": saveFile() })));
    assert.deepEqual([p.save.kind, p.save.path, p.save.fileFs], ["file", "/tinysave-work.4fs", "ext4"]);
  });
  it("a .2fs file without known contents is ext2", () => {
    assert.equal(plan(internal(frugal("", { "/tinysave.2fs": 64 }))).save.fileFs, "ext2");
  });
  it("rejects other names: SFS, empty files, folders on FAT, archives on ext4", () => {
    const p = plan(
      internal(frugal("", { "/tinysave.sfs": 5, "/tinysave.3fs": 0, "/tinysave66.tar.gz": 4, "/tinysave.txt": 1 })),
    );
    assert.equal(p.pupmode, 5);
    assert.ok(hasLog(p, /tinysave.3fs is not a save: is an empty file/));
    assert.ok(hasLog(p, /tinysave66.tar.gz is not a save: archive save/));
    assert.ok(hasLog(p, /tinysave.sfs is not a save/));
  });
  it("a save folder on vfat is not a save", () => {
    const p = plan(internal(frugal("", { "/tinysave/x": 1 }), "vfat"));
    assert.equal(p.pupmode, 5);
    assert.ok(hasLog(p, /needs a Linux filesystem/));
  });
  it("psave naming a file uses it", () => {
    const p = plan(
      internal(frugal("", { "/saves/mine.4fs": saveFile(), "/tinysave.4fs": saveFile() })),
      "psave=sda1:/saves/mine.4fs",
    );
    assert.equal(p.save.path, "/saves/mine.4fs");
  });
  it("psave with a bare name takes it from psubdir", () => {
    const p = plan(internal(frugal("/p", { "/p/other.3fs": saveFile() })), "psubdir=p psave=sda1:other.3fs");
    assert.equal(p.save.path, "/p/other.3fs");
  });
  it("psave ending in / names the directory to search", () => {
    const p = plan(
      internal(frugal("/p", { ...saveFolder("/saves/tinysave"), ...saveFolder("/p/tinysave") })),
      "psubdir=p psave=sda1:/saves/",
    );
    assert.equal(p.save.path, "/saves/tinysave");
  });
  it("psave on another partition by label", () => {
    const m = machine([
      disk("sda", "ata", [
        part("sda1", "ext4", frugal()),
        part("sda2", "ext4", saveFolder("/tinysave"), { label: "SAVES" }),
      ]),
    ]);
    const p = plan(m, "psave=SAVES");
    assert.deepEqual([p.save.partition, p.save.path], ["sda2", "/tinysave"]);
  });
  it("psave naming a folder on FAT is refused and the boot goes on in RAM", () => {
    const m = machine([
      disk("sda", "ata", [part("sda1", "ext4", frugal()), part("sda2", "vfat", { "/tinysave/x": 1 })]),
    ]);
    const p = plan(m, "psave=sda2:/tinysave");
    assert.equal(p.pupmode, 5);
    assert.match(p.warnings.join(), /needs a Linux filesystem/);
  });
  it("several saves: the user is asked, with a timeout and 'none' as the default", () => {
    const files = frugal("", { ...saveFolder("/tinysave"), "/tinysave-b.4fs": saveFile() });
    const p = plan(internal(files));
    assert.equal(p.pupmode, 5);
    const q = p.questions[0]!;
    assert.equal(q.id, "save-choice");
    assert.ok(q.timeoutSec > 0);
    assert.equal(q.default, "0");
    assert.deepEqual(
      q.options.map((o) => o.label),
      ["none: boot without a save", "sda1 /tinysave", "sda1 /tinysave-b.4fs"],
    );
    const chosen = plan(internal(files), "", { saveChoice: "2" });
    assert.deepEqual([chosen.pupmode, chosen.save.path, chosen.questions.length], [12, "/tinysave-b.4fs", 0]);
    assert.equal(plan(internal(files), "", { saveChoice: "0" }).pupmode, 5);
    assert.equal(plan(internal(files), "", { saveChoice: "x" }).pupmode, 5);
  });
  it("an archive tinysave66.tar.gz on FAT: PUPMODE 66 unpacked into RAM", () => {
    const p = plan(internal(frugal("/p", { "/p/tinysave66.tar.gz": 12 }), "vfat"), "psubdir=p");
    assert.equal(p.pupmode, 66);
    assert.deepEqual([p.save.kind, p.save.path], ["archive", "/p/tinysave66.tar.gz"]);
    assert.deepEqual(p.layers[0]!.source, "tmpfs");
    assert.deepEqual(p.keepMounted, [], "the partition is not kept mounted");
  });
  it("an archive save cut off while being renamed: only tinysave66.tar.gz.new is there, and it is used", () => {
    const p = plan(internal(frugal("", { "/tinysave66.tar.gz.new": 3 }), "vfat"));
    assert.equal(p.pupmode, 66);
    assert.equal(p.save.path, "/tinysave66.tar.gz", "the next save writes the usual name");
    assert.ok(p.warnings.some((w) => /only \/tinysave66\.tar\.gz\.new is there/.test(w)));
  });
  it("both the archive and a .new: the whole old archive wins (the new one may be half-written)", () => {
    const p = plan(internal(frugal("", { "/tinysave66.tar.gz": 3, "/tinysave66.tar.gz.new": 1 }), "vfat"));
    assert.equal(p.save.path, "/tinysave66.tar.gz");
    assert.equal(p.warnings.length, 0);
  });
  it("an archive on exFAT too", () =>
    assert.equal(plan(internal(frugal("", { "/tinysave66.tar.gz": 1 }), "exfat")).pupmode, 66));
  it("a whole-partition save (PUPSTATE at the root of a Linux partition): PUPMODE 12", () => {
    const m = machine([
      disk("sda", "ata", [
        part("sda1", "ext4", frugal()),
        part("sda2", "ext4", { "/etc/rc.d/PUPSTATE": { content: "PUPMODE=12\n" } }),
      ]),
    ]);
    const p = plan(m, "psave=sda2 punionfs=aufs", {});
    assert.equal(p.unionfs, "overlay");
    // aufs layout under overlay: not used (see the format check).
    const m2 = machine([
      disk("sda", "ata", [
        part("sda1", "ext4", frugal()),
        part("sda2", "ext4", {
          "/upper/etc/rc.d/PUPSTATE": { content: "PUPMODE=12\n" },
          "/upper/initrd/DISTRO_SPECS": { content: specsText("ramstack tiny", "1.0.0") },
          "/work": "dir",
        }),
      ]),
    ]);
    const q = plan(m2, "psave=sda2");
    assert.deepEqual([q.pupmode, q.save.kind, q.save.partition], [12, "partition", "sda2"]);
    assert.equal(q.pupstate.PUPSAVE, "sda2,ext4,");
    assert.ok(p.warnings.some((w) => /made for aufs/.test(w)));
  });
  it("a full install (PUPMODE=2) is not a save partition", () => {
    const m = machine([
      disk("sda", "ata", [
        part("sda1", "ext4", frugal()),
        part("sda2", "ext4", { "/etc/rc.d/PUPSTATE": { content: "PUPMODE=2\n" } }),
      ]),
    ]);
    assert.equal(plan(m, "psave=sda2").pupmode, 5);
  });
  it("multisession folders on a CD: PUPMODE 77, newest first, .badfolders and pfix=N honoured", () => {
    const cd = part("sr0", "iso9660", {
      [`/${SFS}`]: 60,
      "/2024-01-01-10-00/etc/x": 1,
      "/2024-02-01-10-00/etc/x": 1,
      "/2024-03-01-10-00/.badfolders": { content: "2024-01-01-10-00\n" },
      "/2024-04-01-10-00/etc/x": 1,
      "/not-a-session/x": 1,
    });
    const m = machine([disk("sr0", "cd", [cd], { removable: true })]);
    const p = plan(m, "pmedia=cd");
    assert.equal(p.pupmode, 77);
    assert.deepEqual(p.save.folders, [
      "/2024-04-01-10-00",
      "/2024-03-01-10-00",
      "/2024-02-01-10-00",
      "/2024-01-01-10-00",
    ]);
    const q = plan(m, "pmedia=cd pfix=1");
    assert.deepEqual(
      q.save.folders,
      ["/2024-03-01-10-00", "/2024-02-01-10-00"],
      "newest skipped; its predecessor's .badfolders applies",
    );
    assert.deepEqual(roles(q).slice(0, 2), ["rw", "save"]);
    assert.equal(q.layers[1]!.source, "tmpfs");
  });
});

describe("choosing the save partition (1.10)", () => {
  const twoParts = (mark?: string) =>
    machine([
      disk("sda", "ata", [
        part("sda1", "vfat", frugal("/p", mark !== undefined ? { "/p/SAVEMARK": { content: mark } } : {})),
        part("sda2", "ext4", saveFolder("/p/tinysave")),
        part("sda3", "ext4", saveFolder("/p/tinysave")),
      ]),
    ]);
  it("psavemark=N picks partition N of the boot drive", () =>
    assert.equal(plan(twoParts(), "psubdir=p psavemark=3").save.partition, "sda3"));
  it("a SAVEMARK file beside the SFS wins over psavemark (CR stripped)", () =>
    assert.equal(plan(twoParts("2\r\n"), "psubdir=p psavemark=3").save.partition, "sda2"));
  it("a SAVEMARK that names no partition is reported, and waited for (partitions appear one by one)", () => {
    const p = plan(twoParts("9"), "psubdir=p");
    assert.ok(p.warnings.some((w) => /names sda9, which is not a usable partition/.test(w)));
    assert.deepEqual(p.pending, ["sda9"]);
  });
  it("a SAVEMARK that names a partition with no filesystem is reported, not waited for", () => {
    const m = machine([
      disk("sda", "ata", [
        part("sda1", "vfat", frugal("/p", { "/p/SAVEMARK": { content: "2" } })),
        part("sda2", "swap", {}),
      ]),
    ]);
    const p = plan(m, "psubdir=p");
    assert.ok(p.warnings.some((w) => /names sda2, which is not a usable partition/.test(w)));
    assert.deepEqual(p.pending, []);
  });
  it("SAVESPEC (SS_ID, SS_DIR, SS_MEDIA) takes precedence", () => {
    const m = machine([
      disk("sda", "ata", [
        part(
          "sda1",
          "ext4",
          frugal("/p", {
            "/p/SAVESPEC": { content: "SS_ID='DATA'\nSS_DIR='/mysaves'\nSS_MEDIA='usbflash'\n" },
            ...saveFolder("/p/tinysave"),
          }),
        ),
      ]),
      disk("sdb", "usb", [part("sdb1", "ext4", saveFolder("/mysaves/tinysave-2"), { label: "DATA" })]),
    ]);
    const p = plan(m, "psubdir=p");
    assert.deepEqual(
      [p.save.partition, p.save.path, p.pmedia, p.pupmode],
      ["sdb1", "/mysaves/tinysave-2", "usbflash", 13],
    );
  });
  it("without other hints the save is looked for on the main SFS partition", () => {
    assert.equal(plan(internal(frugal("", saveFolder("/tinysave")))).save.partition, "sda1");
  });
  it("pfix=ram loads no save", () => {
    const p = plan(internal(frugal("", saveFolder("/tinysave"))), "pfix=ram");
    assert.equal(p.pupmode, 5);
    assert.equal(p.save.kind, "none");
  });
  it("a psave partition that is missing is a warning; the boot continues in RAM", () => {
    const p = plan(internal(frugal("", saveFolder("/tinysave"))), "psave=NOPE:/x/");
    assert.deepEqual([p.fatal, p.pupmode], [null, 5]);
    assert.deepEqual(p.pending, ["NOPE"]);
  });
  it("a save on a humongous initrd boot is searched on every partition", () => {
    const m = machine([disk("sda", "ata", [part("sda1", "ext4"), part("sda2", "ext4", saveFolder("/tinysave"))])], {
      initrd: { DISTRO_SPECS: specsText("ramstack tiny", "1.0.0"), files: [`/${SFS}`] },
    });
    assert.equal(plan(m).save.partition, "sda2");
  });
});

describe("flash or not (1.13)", () => {
  const m = (removable: boolean, transport: "usb" | "ata" = "usb") =>
    machine([disk("sdb", transport, [part("sdb1", "ext4", frugal("", saveFolder("/tinysave")))], { removable })]);
  const cases: [string, boolean, string, number][] = [
    ["removable, no pmedia", true, "", 13],
    ["fixed, no pmedia", false, "", 12],
    ["removable, pmedia=usbhd", true, "pmedia=usbhd", 12],
    ["fixed, pmedia=usbflash", false, "pmedia=usbflash", 13],
    ["fixed, pmedia=ataflash", false, "pmedia=ataflash", 13],
    ["removable, pmedia=cd", true, "pmedia=cd", 13],
    ["removable, pmedia=atahd", true, "pmedia=atahd", 12],
  ];
  for (const [name, removable, cmdline, mode] of cases) {
    it(`${name}: PUPMODE ${mode}`, () => {
      const p = plan(m(removable), cmdline);
      assert.equal(p.pupmode, mode);
      assert.equal(p.save.flash, mode === 13);
    });
  }
  it("overlay flash mode gives the tmpfs 75% of RAM", () => {
    assert.equal(plan(m(true)).tmpfsPercent, 75);
    assert.equal(plan(m(false)).tmpfsPercent, 50);
  });
});

describe("the save's version (1.14)", () => {
  const m = (specs: string | null) => internal(frugal("", saveFolder("/tinysave", {}, specs)));
  it("same version: used", () => {
    const p = plan(m(specsText("ramstack tiny", "1.0.0")));
    assert.deepEqual([p.pupmode, p.upgrade.status, p.upgrade.clean], [12, "same", false]);
  });
  it("no DISTRO_SPECS in the save: first boot with it, caches rebuilt", () => {
    const p = plan(m(null));
    assert.deepEqual([p.pupmode, p.upgrade.status, p.flags.forcePm5], [12, "new", true]);
  });
  it("a patch upgrade is accepted with the clean-up", () => {
    const p = plan(internal(frugal("", saveFolder("/tinysave", {}, specsText("ramstack tiny", "0.9.0")))), "", {});
    assert.equal(p.upgrade.status, "ask", "0.9.0 -> 1.0.0 is not a patch upgrade");
    const m2 = machine(
      [
        disk("sda", "ata", [
          part("sda1", "ext4", {
            "/puppy_tiny_1.0.3.sfs": 60,
            ...saveFolder("/tinysave", {}, specsText("ramstack tiny", "1.0.0")),
          }),
        ]),
      ],
      {
        initrd: { DISTRO_SPECS: specsText("ramstack tiny", "1.0.3") },
      },
    );
    const q = plan(m2);
    assert.deepEqual([q.pupmode, q.upgrade.status, q.upgrade.clean, q.flags.versionUpdate], [12, "auto", true, true]);
  });
  it("another distro: asked, and by default the boot stays in RAM and the save is untouched", () => {
    const p = plan(m(specsText("other pup", "1.0.0")));
    assert.deepEqual([p.pupmode, p.save.kind, p.upgrade.status, p.upgrade.clean], [5, "none", "ask", false]);
    assert.equal(p.questions[0]!.id, "upgrade");
    assert.equal(p.questions[0]!.default, "no");
    const yes = plan(m(specsText("other pup", "1.0.0")), "", { upgrade: "yes" });
    assert.deepEqual([yes.pupmode, yes.upgrade.status, yes.upgrade.clean], [12, "accepted", true]);
    const no = plan(m(specsText("other pup", "1.0.0")), "", { upgrade: "no" });
    assert.deepEqual([no.pupmode, no.upgrade.status], [5, "declined"]);
  });
  it("a different WOOF_VERSION is asked about", () => {
    const mm = machine(
      [
        disk("sda", "ata", [
          part("sda1", "ext4", frugal("", saveFolder("/tinysave", {}, specsText("ramstack tiny", "1.0.0", "a")))),
        ]),
      ],
      {
        initrd: { DISTRO_SPECS: specsText("ramstack tiny", "1.0.0", "b") },
      },
    );
    assert.equal(plan(mm).upgrade.status, "ask");
  });
  it("pfix=clean asks for the clean-up on the same version", () =>
    assert.equal(plan(m(specsText("ramstack tiny", "1.0.0")), "pfix=clean").upgrade.clean, true));
  it("an encrypted save is checked once opened", () => {
    const files = frugal("", {
      "/tinysave_luks.4fs": saveFile(256, {}, { luks: true, specs: specsText("other", "1") }),
    });
    const p = plan(internal(files));
    assert.deepEqual([p.pupmode, p.save.encrypted, p.upgrade.status], [12, true, "deferred"]);
    assert.equal(plan(internal(files), "", { saveUnlocked: true }).upgrade.status, "ask");
  });
  it("a save made for aufs is not used under overlay: RAM, with the reason", () => {
    const p = plan(
      internal(
        frugal("", {
          "/tinysave/etc/hosts": 1,
          "/tinysave/initrd/DISTRO_SPECS": { content: specsText("ramstack tiny", "1.0.0") },
        }),
      ),
    );
    assert.equal(p.pupmode, 5);
    assert.match(p.warnings.join(), /made for aufs, this boot uses overlay.*punionfs=aufs/);
  });
});

describe("modules, resize and fsck (1.7, 1.11, 1.14)", () => {
  it("pimod lists modules to load", () => assert.deepEqual(plan(internal(frugal()), "pimod=a,b").modules, ["a", "b"]));
  it("initmodules.txt beside the save is used when pimod is empty", () => {
    const p = plan(
      internal(
        frugal("/p", { "/p/tinyinitmodules.txt": { content: "hid_apple\nusbhid\n" }, ...saveFolder("/p/tinysave") }),
      ),
      "psubdir=p",
    );
    assert.deepEqual([p.modules, p.modulesFrom], [["hid_apple", "usbhid"], "initmodules"]);
    assert.deepEqual(
      plan(internal(frugal("/p", { "/p/tinyinitmodules.txt": { content: "x" } })), "psubdir=p pimod=y").modules,
      ["y"],
    );
  });
  it("pupsaveresizenew.txt grows the save file it names", () => {
    const p = plan(
      internal(
        frugal("", {
          "/tinysave.4fs": saveFile(),
          "/pupsaveresizenew.txt": { content: "KILOBIG='262144'\nPUPSAVEFILEX='/tinysave.4fs'\n" },
        }),
      ),
    );
    assert.deepEqual(p.resizeSave, { kib: 262144 });
    const q = plan(
      internal(
        frugal("", {
          "/tinysave.4fs": saveFile(),
          "/pupsaveresizenew.txt": { content: "KILOBIG='x'\nPUPSAVEFILEX='/tinysave.4fs'\n" },
        }),
      ),
    );
    assert.equal(q.resizeSave, null);
  });
  it("fsckme.flg: the partition is checked and the save file too", () => {
    const p = plan(
      internal(frugal("", { "/tinysave.4fs": saveFile(), "/fsckme.flg": { content: "sda1,ext4,/tinysave.4fs\n" } })),
    );
    assert.deepEqual(p.fsck, [
      { target: "sda1", reason: "fsckme.flg: unclean shutdown" },
      { target: "savefile:sda1:/tinysave.4fs", reason: "fsckme.flg: unclean shutdown" },
    ]);
    assert.deepEqual(p.fsckFlags, ["sda1:/fsckme.flg"]);
  });
  it("fsckme.flg on vfat is read but vfat is not checked", () => {
    const p = plan(internal(frugal("", { "/fsckme.flg": { content: "sda1,vfat,\n" } }), "vfat"));
    assert.deepEqual(p.fsck, []);
    assert.deepEqual(p.fsckFlags, ["sda1:/fsckme.flg"]);
  });
  it("pfix=fsckp checks every ext partition mounted; pfix=fsck the save file", () => {
    const m = machine([
      disk("sda", "ata", [part("sda1", "vfat", frugal()), part("sda2", "ext4", { "/tinysave.3fs": saveFile() })]),
    ]);
    const p = plan(m, "pfix=fsckp,fsck psave=sda2");
    assert.deepEqual(
      p.fsck.map((f) => f.target),
      ["sda2", "savefile:sda2:/tinysave.3fs"],
    );
  });
});

describe("handover (1.16)", () => {
  it("PUPSTATE has Puppy's variables", () => {
    const m = machine([
      disk("sda", "ata", [part("sda1", "ext4", frugal("/p", saveFolder("/p/tinysave")))]),
      disk("sr0", "cd", [part("sr0", "iso9660")]),
    ]);
    const s = plan(m, "psubdir=p plang=es_ES.UTF-8").pupstate;
    assert.deepEqual(Object.keys(s), [
      "PUPMODE",
      "PDEV1",
      "DEV1FS",
      "PUPSFS",
      "PUPSAVE",
      "PMEDIA",
      "ATADRIVES",
      "ATAOPTICALDRIVES",
      "RW_LAYER",
      "SAVE_LAYER",
      "PUP_LAYER",
      "PUP_HOME",
      "ZDRV",
      "FDRV",
      "ADRV",
      "YDRV",
      "BDRV",
      "PSAVEMARK",
      "PSAVEPART",
      "PSAVEDIR",
      "PSUBDIR",
      "PUNIONFS",
      "DOIMODS",
      "DOMIBS",
      "PLANG",
    ]);
    assert.deepEqual(
      [
        s.PUPMODE,
        s.PDEV1,
        s.PUPSFS,
        s.PUPSAVE,
        s.ATADRIVES,
        s.ATAOPTICALDRIVES,
        s.SAVE_LAYER,
        s.PUP_HOME,
        s.ZDRV,
        s.PSAVEDIR,
        s.PSUBDIR,
      ],
      [
        "12",
        "sda1",
        `sda1,ext4,/p/${SFS}`,
        "sda1,ext4,/p/tinysave",
        "sda",
        "sr0",
        "/pup_rw",
        "/mnt/dev_save",
        "sda1,ext4,/p/zdrv_tiny_1.0.0.sfs",
        "",
        "/p",
      ],
    );
  });
});

describe("PSAVEPART and PSAVEDIR as Puppy sets them (the save's place, even before a save is there)", () => {
  const two = (bootFiles: Parameters<typeof part>[2], other: Parameters<typeof part>[2] = {}, label = "SAVES") =>
    machine([
      disk("sda", "ata", [part("sda1", "ext4", bootFiles)]),
      disk("sdb", "ata", [part("sdb1", "ext4", other, { label })]),
    ]);
  const vars = (p: ReturnType<typeof plan>) => [p.pupstate.PSAVEPART, p.pupstate.PSAVEDIR];
  it("empty for a save found by the default search beside the main SFS", () => {
    const p = plan(internal(frugal("/p", saveFolder("/p/tinysave"))), "psubdir=p");
    assert.deepEqual(vars(p), ["", ""]);
    assert.equal(p.saveTarget, null);
  });
  it("empty with no save and no place given", () => {
    const p = plan(internal(frugal("/p")), "psubdir=p");
    assert.deepEqual([p.pupmode, ...vars(p)], [5, "", ""]);
  });
  it("psave=LABEL:/dir/ with no save there yet: the place, with a trailing slash", () => {
    const p = plan(two(frugal("/p")), "psubdir=p psave=SAVES:/saves/");
    assert.deepEqual([p.pupmode, ...vars(p)], [5, "sdb1", "/saves/"]);
    assert.deepEqual(p.saveTarget, { partition: "sdb1", fstype: "ext4", dir: "/saves/", from: "psave" });
  });
  it("psave=LABEL:/dir/ with a save there: the same values", () => {
    const p = plan(two(frugal("/p"), saveFolder("/saves/tinysave")), "psubdir=p psave=SAVES:/saves/");
    assert.deepEqual([p.pupmode, p.save.path, ...vars(p)], [12, "/saves/tinysave", "sdb1", "/saves/"]);
  });
  it("psave naming a file: its directory", () => {
    const p = plan(two(frugal("/p"), { "/s/mine.4fs": saveFile() }), "psubdir=p psave=sdb1:/s/mine.4fs");
    assert.deepEqual(vars(p), ["sdb1", "/s/"]);
  });
  it("psave naming only a partition: psubdir on it", () => {
    assert.deepEqual(vars(plan(two(frugal("/p")), "psubdir=p psave=sdb1")), ["sdb1", "/p/"]);
  });
  it("SAVEMARK 2 with no save yet: that partition and psubdir", () => {
    const m = machine([
      disk("sda", "ata", [
        part("sda1", "ext4", frugal("/p", { "/p/SAVEMARK": { content: "2\n" } })),
        part("sda2", "ext4"),
      ]),
    ]);
    const p = plan(m, "psubdir=p");
    assert.deepEqual([p.pupmode, ...vars(p)], [5, "sda2", "/p/"]);
    assert.equal(p.saveTarget?.from, "sda1:/p/SAVEMARK");
  });
  it("psavemark=2 without psubdir: the partition's root", () => {
    const m = machine([disk("sda", "ata", [part("sda1", "ext4", frugal()), part("sda2", "ext4")])]);
    assert.deepEqual(vars(plan(m, "psavemark=2")), ["sda2", "/"]);
  });
  it("SAVESPEC with no save there yet: SS_ID's partition and SS_DIR", () => {
    const p = plan(two(frugal("/p", { "/p/SAVESPEC": { content: "SS_ID='SAVES'\nSS_DIR='/mine'\n" } })), "psubdir=p");
    assert.deepEqual([p.pupmode, ...vars(p)], [5, "sdb1", "/mine/"]);
  });
  it("pfix=ram: no place", () => {
    const p = plan(two(frugal("/p")), "psubdir=p psave=SAVES:/saves/ pfix=ram");
    assert.deepEqual([...vars(p), p.saveTarget], ["", "", null]);
  });
  it("a psave label that is not there: no place, and the label is waited for", () => {
    const p = plan(two(frugal("/p"), {}, "OTHER"), "psubdir=p psave=SAVES:/saves/");
    assert.deepEqual([...vars(p), p.pending], ["", "", ["SAVES"]]);
  });
  it("BOOTCONFIG keeps EXTRASFSLIST and rotates LASTUNIONRECORD", () => {
    const p = plan(
      internal(
        frugal(
          "",
          saveFolder("/tinysave", {
            "/etc/rc.d/BOOTCONFIG": { content: "EXTRASFSLIST=''\nLASTUNIONRECORD='tinysave old.sfs'\n" },
          }),
        ),
      ),
    );
    assert.deepEqual(p.bootconfig, {
      EXTRASFSLIST: "",
      PREVUNIONRECORD: "tinysave old.sfs",
      LASTUNIONRECORD: `tinysave ${SFS} zdrv_tiny_1.0.0.sfs`,
    });
  });
  it("keeps mounted what is not in RAM, and says when the boot medium can go", () => {
    const p = plan(internal(frugal()));
    assert.deepEqual([p.keepMounted, p.mediaRemovable], [[], true]);
    const q = plan(internal(frugal("", saveFolder("/tinysave"))));
    assert.deepEqual([q.keepMounted, q.mediaRemovable], [["sda1"], false]);
    const r = plan(internal(frugal()), "pfix=nocopy");
    assert.deepEqual(r.keepMounted, ["sda1"]);
  });
  it("flags for the running system", () => {
    const p = plan(internal(frugal()), "pfix=nox,rdsh,xorgwizard pwireless=home:secret");
    assert.deepEqual([p.flags.nox, p.flags.rdsh, p.flags.xorgwizard], [true, true, true]);
    assert.deepEqual(p.wireless, { ssid: "home" }, "the password is not in the plan");
    assert.equal(JSON.stringify(p).includes("secret"), false);
  });
});

describe("keyboard and language (1.2 pkeys, plang)", () => {
  const m = (files: string[], extra: Record<string, string> = {}) =>
    machine([disk("sda", "ata", [part("sda1", "ext4", frugal())])], {
      initrd: { DISTRO_SPECS: specsText("ramstack tiny", "1.0.0"), files, ...extra },
    });
  const maps = [
    "/lib/keymaps/us.gz",
    "/lib/keymaps/uk.gz",
    "/lib/keymaps/de-latin1.gz",
    "/lib/keymaps/jp106.gz",
    "/lib/keymaps/es.gz",
    "/lib/keymaps/pl.gz",
  ];
  const cases: [string, string | null, string | null][] = [
    ["pkeys=gb", "uk", null],
    ["pkeys=jp", "jp106", null],
    ["pkeys=de", "de", "850"],
    ["plang=es_ES.UTF-8", "es", "850"],
    ["plang=en_GB.UTF-8", "uk", null],
    ["pkeys=pl", "pl", "852"],
  ];
  for (const [cmd, keymap, cp] of cases)
    it(`${cmd} -> ${keymap}`, () => {
      const p = plan(m(maps), cmd);
      assert.deepEqual([p.keymap, p.codepage], [keymap, cp]);
    });
  it("a keymap without an exact file takes the first that starts with it", () => {
    const p = plan(m(maps), "pkeys=de");
    assert.ok(hasLog(p, /keymap de from \/lib\/keymaps\/de-latin1.gz/));
  });
  it("a missing keymap is a warning", () => assert.match(plan(m(maps), "pkeys=fr").warnings.join(), /no keymap fr/));
  it("the initrd's PUPPYLANG is the default language", () =>
    assert.equal(plan(m(maps, { PUPPYLANG: "de_DE.UTF-8" })).lang, "de_DE.UTF-8"));
  it("fonts follow the language", () => {
    assert.equal(plan(m(maps), "plang=ru_RU.UTF-8").font, "ter-u16n");
    assert.equal(plan(m(maps), "plang=en_US.UTF-8").font, null);
    assert.equal(plan(m(maps), "plang=es_ES.UTF-8").font, "LatGrkCyr-8x16");
  });
});
