// Reference sections 1.2, 1.3, 1.5, 1.9: finding the SFS files and stacking them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  A,
  B,
  disk,
  F,
  frugal,
  hasLog,
  machine,
  part,
  plan,
  roles,
  saveFolder,
  SFS,
  SPECS,
  Y,
  Z,
} from "../helpers/machines.js";

describe("finding the main SFS (1.3, 1.5)", () => {
  it("searches partitions in order and takes the first with the SFS in psubdir", () => {
    const m = machine([
      disk("sda", "ata", [
        part("sda1", "ext4", { "/other": 1 }),
        part("sda2", "ext4", frugal("/puppy")),
        part("sda3", "ext4", frugal("/puppy")),
      ]),
    ]);
    const p = plan(m, "psubdir=puppy");
    assert.equal(p.fatal, null);
    assert.equal(p.bootPartition, "sda2");
    assert.equal(p.layers.find((l) => l.role === "puppy")?.path, `/puppy/${SFS}`);
  });
  it("with no psubdir looks at the partition root", () => {
    const p = plan(machine([disk("sda", "ata", [part("sda1", "ext4", frugal(""))])]));
    assert.equal(p.layers.find((l) => l.role === "puppy")?.path, `/${SFS}`);
  });
  it("a missing main SFS is fatal, names what was searched, and says waiting may help", () => {
    const p = plan(machine([disk("sda", "ata", [part("sda1", "ext4"), part("sda2", "vfat")])]), "psubdir=/p");
    assert.match(p.fatal ?? "", new RegExp(`${SFS} not found in /p on any partition \\(searched: sda1, sda2\\)`));
    assert.deepEqual(p.pending, [SFS]);
    assert.deepEqual(p.layers, []);
  });
  it("an empty main SFS is passed over in the search", () => {
    const m = machine([disk("sda", "ata", [part("sda1", "ext4", { [`/${SFS}`]: 0 }), part("sda2", "ext4", frugal())])]);
    const p = plan(m);
    assert.equal(p.bootPartition, "sda2");
    assert.ok(hasLog(p, /sda1:\/puppy_tiny_1.0.0.sfs is empty; still searching/));
  });
  it("pupsfs=partition uses that partition with the default name in psubdir", () => {
    const m = machine([disk("sda", "ata", [part("sda1", "ext4", frugal("/p")), part("sda2", "ext4", frugal("/p"))])]);
    assert.equal(plan(m, "pupsfs=sda2 psubdir=p").bootPartition, "sda2");
  });
  it("pupsfs=LABEL:/path names a file", () => {
    const m = machine([
      disk("sda", "ata", [
        part("sda1", "ext4", {}, { label: "L1" }),
        part("sda2", "ext4", { "/x/main.sfs": 50 }, { label: "BOOT" }),
      ]),
    ]);
    const p = plan(m, "pupsfs=BOOT:/x/main.sfs");
    assert.equal(p.layers.find((l) => l.role === "puppy")?.path, "/x/main.sfs");
    assert.equal(p.bootPartition, "sda2");
  });
  it("pupsfs on a missing partition is fatal and pending", () => {
    const p = plan(machine([disk("sda", "ata", [part("sda1", "ext4", frugal())])]), "pupsfs=sdb1");
    assert.match(p.fatal ?? "", /pupsfs=sdb1: no partition sdb1/);
    assert.deepEqual(p.pending, ["sdb1"]);
  });
  it("pupsfs naming a file that is not there is fatal", () => {
    const p = plan(machine([disk("sda", "ata", [part("sda1", "ext4", frugal())])]), "pupsfs=sda1:/nope.sfs");
    assert.match(p.fatal ?? "", /sda1:\/nope.sfs not found/);
  });
  it("pupsfs without a partition searches for the path", () => {
    const m = machine([disk("sda", "ata", [part("sda1", "ext4"), part("sda2", "ext4", { "/x/m.sfs": 5 })])]);
    assert.equal(plan(m, "pupsfs=:/x/m.sfs").bootPartition, "sda2");
  });
  it("an SFS inside the initrd (humongous initrd) is used first and is in RAM", () => {
    const m = machine([disk("sda", "ata", [part("sda1", "ext4", frugal())])], {
      initrd: { DISTRO_SPECS: SPECS, files: [`/${SFS}`] },
    });
    const p = plan(m);
    const l = p.layers.find((x) => x.role === "puppy")!;
    assert.deepEqual([l.source, l.partition, l.ram], ["initrd", null, true]);
    assert.equal(p.bootPartition, "initrd");
  });
  it("DISTRO_PUPPYSFS renames the main SFS", () => {
    const m = machine([disk("sda", "ata", [part("sda1", "ext4", { "/main.sfs": 5 })])], {
      initrd: { DISTRO_SPECS: SPECS + "DISTRO_PUPPYSFS=main.sfs\n" },
    });
    assert.equal(plan(m).layers.find((l) => l.role === "puppy")?.path, "/main.sfs");
  });
  it("an unusable DISTRO_SPECS is fatal with the reason", () => {
    const p = plan(machine([], { initrd: { DISTRO_SPECS: "# nothing\n" } }));
    assert.match(p.fatal ?? "", /DISTRO_SPECS is unusable: DISTRO_SPECS has no DISTRO_FILE_PREFIX/);
  });
});

describe("zdrv, fdrv, adrv, ydrv, bdrv (1.2, 1.3)", () => {
  it("default names are taken beside the main SFS", () => {
    const m = machine([
      disk("sda", "ata", [
        part("sda1", "ext4", frugal("/p", { [`/p/${A}`]: 1, [`/p/${Y}`]: 1, [`/p/${B}`]: 1, [`/p/${F}`]: 1 })),
      ]),
    ]);
    assert.deepEqual(roles(plan(m, "psubdir=p")), ["rw", "adrv", "ydrv", "bdrv", "puppy", "fdrv", "zdrv"]);
  });
  it("a spec with another partition and path is used", () => {
    const m = machine([
      disk("sda", "ata", [part("sda1", "ext4", frugal()), part("sda2", "ext4", { "/apps/a.sfs": 3 })]),
    ]);
    const l = plan(m, "adrv=sda2:/apps/a.sfs").layers.find((x) => x.role === "adrv")!;
    assert.deepEqual([l.partition, l.path, l.mountpoint], ["sda2", "/apps/a.sfs", "/pup_a"]);
  });
  it("a spec with no partition uses the main SFS partition", () => {
    const m = machine([
      disk("sda", "ata", [part("sda1", "ext4", { "/other": 1 }), part("sda2", "ext4", frugal("", { "/alt.sfs": 2 }))]),
    ]);
    const l = plan(m, "fdrv=:/alt.sfs").layers.find((x) => x.role === "fdrv")!;
    assert.deepEqual([l.partition, l.path], ["sda2", "/alt.sfs"]);
  });
  it("a spec ending in / takes the default name in that directory", () => {
    const m = machine([disk("sda", "ata", [part("sda1", "ext4", frugal("", { [`/extra/${Y}`]: 2 }))])]);
    assert.equal(plan(m, "ydrv=sda1:/extra/").layers.find((x) => x.role === "ydrv")?.path, `/extra/${Y}`);
  });
  it("a named SFS that is missing is a warning, not fatal", () => {
    const p = plan(machine([disk("sda", "ata", [part("sda1", "ext4", frugal())])]), "adrv=sda1:/nope.sfs bdrv=NOLABEL");
    assert.equal(p.fatal, null);
    assert.ok(p.warnings.some((w) => /adrv=sda1:\/nope.sfs: sda1:\/nope.sfs not found; booting without it/.test(w)));
    assert.ok(p.warnings.some((w) => /bdrv=NOLABEL: no partition NOLABEL/.test(w)));
    assert.deepEqual(p.pending, ["NOLABEL"]);
  });
  it("zdrv inside the initrd is used", () => {
    const m = machine([disk("sda", "ata", [part("sda1", "ext4", { [`/${SFS}`]: 9 })])], {
      initrd: { DISTRO_SPECS: SPECS, files: [`/${Z}`] },
    });
    assert.equal(plan(m).layers.find((x) => x.role === "zdrv")?.source, "initrd");
  });
});

describe("the layer stack (1.9)", () => {
  const everything = (fs: string[] = []) =>
    machine(
      [
        disk("sda", "ata", [
          part("sda1", "ext4", {
            ...frugal("/p", {
              [`/p/${A}`]: 1,
              [`/p/${Y}`]: 1,
              [`/p/${B}`]: 1,
              [`/p/${F}`]: 1,
              "/p/devx_tiny_1.0.0.sfs": 1,
              "/p/kbuild-6.1.sfs": 1,
            }),
            "/p/tinysave/work": "dir",
            "/p/tinysave/upper/etc/rc.d/BOOTCONFIG": { content: "EXTRASFSLIST='kodi.sfs retro.sfs'\n" },
            "/p/tinysave/upper/initrd/DISTRO_SPECS": { content: SPECS },
            "/p/kodi.sfs": 5,
            "/retro.sfs": 5,
          }),
        ]),
      ],
      { kernelRelease: "6.1", ...(fs.length ? { filesystems: fs } : {}) },
    );
  it("is rw, adrv, ydrv, bdrv, puppy, devx, kbuild, fdrv, zdrv, extras, top first, at Puppy's mount points", () => {
    const p = plan(everything(), "psubdir=p pmedia=atahd");
    assert.equal(p.pupmode, 12);
    assert.deepEqual(roles(p), [
      "rw",
      "adrv",
      "ydrv",
      "bdrv",
      "puppy",
      "extra:devx",
      "extra:kbuild",
      "fdrv",
      "zdrv",
      "extra",
      "extra",
    ]);
    assert.deepEqual(
      p.layers.map((l) => l.mountpoint),
      [
        "/pup_rw",
        "/pup_a",
        "/pup_y",
        "/pup_b",
        "/pup_ro2",
        "/pup_dev",
        "/pup_k",
        "/pup_f",
        "/pup_z",
        "/pup_ro3",
        "/pup_ro4",
      ],
    );
    assert.deepEqual(
      p.layers.slice(-2).map((l) => l.path),
      ["/p/kodi.sfs", "/retro.sfs"],
    );
    assert.deepEqual([p.layers[0]!.partition, p.layers[0]!.path, p.layers[0]!.source], ["sda1", "/p/tinysave", "save"]);
  });
  it("in flash mode the save sits under the RAM layer as /pup_ro1", () => {
    const p = plan(everything(), "psubdir=p pmedia=ataflash");
    assert.equal(p.pupmode, 13);
    assert.deepEqual(roles(p).slice(0, 3), ["rw", "save", "adrv"]);
    assert.deepEqual([p.layers[0]!.source, p.layers[1]!.mountpoint], ["tmpfs", "/pup_ro1"]);
  });
  it("devx, nlsx and docx are stacked only under overlay", () => {
    const p = plan(everything(["ext4", "squashfs", "aufs"]), "psubdir=p pmedia=atahd");
    assert.equal(p.unionfs, "aufs");
    assert.equal(roles(p).includes("extra:devx"), false);
    assert.equal(roles(p).includes("extra:kbuild"), true);
  });
});

describe("task layers (ptask=)", () => {
  const m = () =>
    machine([
      disk("sda", "ata", [
        part("sda1", "ext4", {
          ...frugal("/p", { [`/p/${B}`]: 1, "/p/webdev_tiny_1.0.0.sfs": 5, "/p/kodi_tiny_1.0.0.sfs": 0 }),
          "/p/tinysave/work": "dir",
          "/p/tinysave/upper/etc/rc.d/BOOTCONFIG": { content: "EXTRASFSLIST='retro.sfs'\n" },
          "/p/tinysave/upper/initrd/DISTRO_SPECS": { content: SPECS },
          "/p/retro.sfs": 5,
        }),
      ]),
    ]);
  it("stacks NAME_PREFIX_VERSION.sfs beside the main SFS on top, above bdrv, in the order given", () => {
    const p = plan(m(), "psubdir=p pmedia=atahd ptask=webdev");
    assert.deepEqual(roles(p), ["rw", "extra:task", "bdrv", "puppy", "zdrv", "extra"]);
    assert.deepEqual(
      p.layers.filter((l) => l.role === "extra").map((l) => [l.path, l.mountpoint]),
      [
        ["/p/webdev_tiny_1.0.0.sfs", "/pup_ro3"],
        ["/p/retro.sfs", "/pup_ro4"],
      ],
    );
    assert.ok(hasLog(p, /webdev: \/p\/webdev_tiny_1\.0\.0\.sfs on sda1 \(ptask\)/));
  });
  it("a task whose layer is missing or empty is named in a warning, and the system boots without it", () => {
    const p = plan(m(), "psubdir=p pmedia=atahd ptask=kodi,retro,webdev");
    assert.equal(p.fatal, null);
    assert.deepEqual(
      p.layers.filter((l) => l.kind === "task").map((l) => l.path),
      ["/p/webdev_tiny_1.0.0.sfs"],
    );
    assert.match(
      p.warnings.join("\n"),
      /task kodi: \/p\/kodi_tiny_1\.0\.0\.sfs on sda1: is empty; the system boots without it/,
    );
    assert.match(p.warnings.join("\n"), /task retro: \/p\/retro_tiny_1\.0\.0\.sfs on sda1: not found/);
  });
  it("a name that is not a task name is refused by the parameter, the others kept", () => {
    const p = plan(m(), "psubdir=p pmedia=atahd ptask=../x,webdev");
    assert.match(p.warnings.join("\n"), /ptask: '\.\.\/x' is not a task name; ignored/);
    assert.equal(p.layers.filter((l) => l.kind === "task").length, 1);
  });
  it("pautostart (read by the task's own init script) is checked alike and stacks nothing", () => {
    const p = plan(m(), "psubdir=p pmedia=atahd pautostart=kodi,../x");
    assert.match(p.warnings.join("\n"), /pautostart: '\.\.\/x' is not a task name; ignored/);
    assert.doesNotMatch(p.warnings.join("\n"), /kodi/);
    assert.equal(p.layers.filter((l) => l.kind === "task").length, 0);
  });
  const listed = (list: string) =>
    machine([
      disk("sda", "ata", [
        part("sda1", "ext4", {
          ...frugal("/p", { [`/p/${B}`]: 1, "/p/webdev_tiny_1.0.0.sfs": 5 }),
          "/p/tinysave/work": "dir",
          "/p/tinysave/upper/etc/rc.d/BOOTCONFIG": { content: `EXTRASFSLIST='${list}'\n` },
          "/p/tinysave/upper/initrd/DISTRO_SPECS": { content: SPECS },
          "/retro_tiny_1.0.0.sfs": 5,
          "/p/mine.sfs": 5,
        }),
      ]),
    ]);
  it("a task's layer named in EXTRASFSLIST is stacked on top as a task, a plain extra SFS at the bottom", () => {
    const p = plan(listed("mine.sfs retro_tiny_1.0.0.sfs"), "psubdir=p pmedia=atahd");
    assert.deepEqual(roles(p), ["rw", "extra:task", "bdrv", "puppy", "zdrv", "extra"]);
    assert.deepEqual(
      p.layers.filter((l) => l.role === "extra").map((l) => [l.kind ?? "", l.path]),
      [
        ["task", "/retro_tiny_1.0.0.sfs"],
        ["extra", "/p/mine.sfs"],
      ],
    );
    assert.ok(hasLog(p, /retro: \/retro_tiny_1\.0\.0\.sfs on sda1 \(EXTRASFSLIST\)/));
  });
  it("a task both in EXTRASFSLIST and in ptask= is stacked once", () => {
    const p = plan(listed("webdev_tiny_1.0.0.sfs"), "psubdir=p pmedia=atahd ptask=webdev");
    assert.deepEqual(
      p.layers.filter((l) => l.kind === "task").map((l) => l.path),
      ["/p/webdev_tiny_1.0.0.sfs"],
    );
    assert.ok(hasLog(p, /webdev: webdev_tiny_1\.0\.0\.sfs from EXTRASFSLIST is already stacked \(ptask\)/));
  });
});

describe("union filesystem (1.2 punionfs)", () => {
  const m = (fs: string[]) => machine([disk("sda", "ata", [part("sda1", "ext4", frugal())])], { filesystems: fs });
  it("aufs when the kernel has it", () =>
    assert.equal(plan(m(["ext4", "squashfs", "aufs", "overlay"])).unionfs, "aufs"));
  it("overlay otherwise", () => assert.equal(plan(m(["ext4", "squashfs", "overlay"])).unionfs, "overlay"));
  it("punionfs=overlay forces overlay", () =>
    assert.equal(plan(m(["ext4", "squashfs", "aufs", "overlay"]), "punionfs=overlay").unionfs, "overlay"));
  it("punionfs=aufs without aufs falls back to overlay with a warning", () => {
    const p = plan(m(["ext4", "squashfs", "overlay"]), "punionfs=aufs");
    assert.equal(p.unionfs, "overlay");
    assert.match(p.warnings.join(), /kernel has no aufs/);
  });
});

describe("BOOT_SPECS (1.2)", () => {
  const m = (bootSpecs: string) =>
    machine([disk("sda", "ata", [part("sda1", "ext4", frugal("/a")), part("sda2", "ext4", frugal("/b"))])], {
      initrd: { DISTRO_SPECS: SPECS, BOOT_SPECS: bootSpecs },
    });
  it("overrides the cmdline", () => {
    const p = plan(m("PDRV=sda2\nPSUBDIR=b\n"), "pupsfs=sda1 psubdir=a");
    assert.equal(p.bootPartition, "sda2");
    assert.equal(p.psubdir, "/b");
  });
  it("is not applied with pfix=ram", () => {
    const p = plan(m("PDRV=sda2\nPSUBDIR=b\n"), "pupsfs=sda1 psubdir=a pfix=ram");
    assert.equal(p.bootPartition, "sda1");
  });
  it("is read as data: a command in it is reported, not run", () => {
    const p = plan(m("PSUBDIR=b\nreboot -f\nTZ='Europe/Madrid'\n"));
    assert.equal(p.psubdir, "/b");
    assert.equal(p.tz, "Europe/Madrid");
    assert.match(p.warnings.join(), /line 2 skipped \(not an assignment\): reboot -f/);
  });
  it("WAITDEV is capped like waitdev= on the cmdline", () => {
    const p = plan(m("WAITDEV=9999\n"), "pupsfs=sda1 psubdir=a");
    assert.equal(p.waitdev, 600);
    assert.match(p.warnings.join(), /WAITDEV=9999 is more than 600 seconds; using 600/);
  });
  it("a bad WAITDEV keeps the cmdline's value and says so", () => {
    const p = plan(m("WAITDEV=soon\n"), "pupsfs=sda1 psubdir=a waitdev=12");
    assert.equal(p.waitdev, 12);
    assert.match(p.warnings.join(), /WAITDEV=soon is not a number of seconds; using 12/);
  });
  it("PSAVEMARK is read as psavemark= and a SAVEMARK file are (one reader: spaces around the number are fine)", () => {
    const three = (files: Record<string, string>) =>
      machine(
        [
          disk("sda", "ata", [
            part(
              "sda1",
              "ext4",
              frugal("/a", Object.fromEntries(Object.entries(files).map(([k, v]) => [k, { content: v }]))),
            ),
            part("sda2", "ext4", saveFolder("/a/tinysave")),
          ]),
        ],
        { initrd: { DISTRO_SPECS: SPECS, BOOT_SPECS: "PSAVEMARK=' 2 '\n" } },
      );
    assert.equal(plan(three({}), "psubdir=a").save.partition, "sda2");
    assert.equal(plan(three({ "/a/SAVEMARK": " 2 \r\n" }), "psubdir=a").save.partition, "sda2");
    const bad = plan(
      machine([disk("sda", "ata", [part("sda1", "ext4", frugal("/a"))])], {
        initrd: { DISTRO_SPECS: SPECS, BOOT_SPECS: "PSAVEMARK=0\n" },
      }),
      "psubdir=a psavemark=1",
    );
    assert.match(bad.warnings.join(), /PSAVEMARK=0 is not a partition number; ignored/);
    assert.equal(bad.pupstate.PSAVEMARK, "1");
  });
});

describe("root= (1.2)", () => {
  const m = machine([
    disk("sda", "ata", [
      part("sda1", "ext4", {}, { uuid: "abcd-1234" }),
      part("sda2", "ext4", frugal(), { uuid: "ef01-5678" }),
    ]),
  ]);
  it("names the main SFS partition when no pupsfs is given", () =>
    assert.equal(plan(m, "root=sda2").bootPartition, "sda2"));
  it("accepts UUID=", () => assert.equal(plan(m, "root=UUID=ef01").bootPartition, "sda2"));
  it("loses to pupsfs", () => assert.match(plan(m, "root=sda2 pupsfs=sda1").fatal ?? "", /sda1/));
});
