import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cmdlineEnvironment, tokenizeCmdline } from "../../src/plan/cmdline.js";
import { parseDistroSpecs } from "../../src/plan/distro.js";
import { parseParams } from "../../src/plan/params.js";
import { parseShellVars, renderShellVars } from "../../src/plan/shellvars.js";
import { decodeSpec, sfsPathFor } from "../../src/plan/spec.js";

describe("kernel command line", () => {
  it("splits on spaces and keeps quoted spaces", () => {
    assert.deepEqual(tokenizeCmdline(' quiet  psave="sdb1:/my dir/" pfix=ram\tloglevel=3 '), [
      { name: "quiet", value: null },
      { name: "psave", value: "sdb1:/my dir/" },
      { name: "pfix", value: "ram" },
      { name: "loglevel", value: "3" },
    ]);
  });
  it("passes name=value words to init's environment, except module parameters", () => {
    const env = cmdlineEnvironment(tokenizeCmdline("usbcore.autosuspend=-1 pmedia=usbhd pmedia=atahd quiet"));
    assert.equal(env.get("pmedia"), "atahd", "a later word overrides an earlier one");
    assert.equal(env.has("usbcore.autosuspend"), false);
    assert.equal(env.has("quiet"), false);
  });
});

describe("shell-style spec files are read as data", () => {
  it("reads quotes, comments, export and references", () => {
    const { vars, skipped } = parseShellVars(
      "# comment\nexport A='one two'\nB=\"x $A y\" # trailing\nC=plain\\ word\nD=${A}z\nE=''\r\n",
    );
    assert.deepEqual(Object.fromEntries(vars), {
      A: "one two",
      B: "x one two y",
      C: "plain word",
      D: "one twoz",
      E: "",
    });
    assert.equal(skipped.length, 0);
  });
  it("never runs commands", () => {
    const { vars, skipped } = parseShellVars("A=$(rm -rf /)\nB=`reboot`\nrm -rf /\nC='ok'\nD=x; reboot\n");
    assert.deepEqual([...vars.keys()], ["C"]);
    assert.deepEqual(
      skipped.map((s) => s.reason),
      [
        "command substitution is not allowed",
        "command substitution is not allowed",
        "not an assignment",
        "more than one word after '='",
      ],
    );
  });
  it("expands $(uname -r) in DISTRO_ZDRVSFS with the kernel release (Kit_Kernel builds)", () => {
    const { distro } = parseDistroSpecs(
      'DISTRO_FILE_PREFIX=t\nDISTRO_VERSION=2\nDISTRO_ZDRVSFS="zdrv_$(uname -r).sfs"\n',
      "6.1.0-18-amd64",
    );
    assert.equal(distro?.sfs.zdrv, "zdrv_6.1.0-18-amd64.sfs");
  });
  it("round-trips rendered values", () => {
    const v: [string, string][] = [
      ["A", "it's"],
      ["B", '$HOME `x` "q"'],
      ["C", ""],
    ];
    assert.deepEqual([...parseShellVars(renderShellVars(v)).vars], v);
  });
});

describe("DISTRO_SPECS", () => {
  it("gives default SFS names from prefix and version", () => {
    const { distro } = parseDistroSpecs("DISTRO_NAME='X'\nDISTRO_VERSION=9.5\nDISTRO_FILE_PREFIX=fossa\n");
    assert.deepEqual(
      [distro?.sfs.puppy, distro?.sfs.zdrv, distro?.sfs.fdrv, distro?.sfs.adrv, distro?.sfs.ydrv, distro?.sfs.bdrv],
      [
        "puppy_fossa_9.5.sfs",
        "zdrv_fossa_9.5.sfs",
        "fdrv_fossa_9.5.sfs",
        "adrv_fossa_9.5.sfs",
        "ydrv_fossa_9.5.sfs",
        "bdrv_fossa_9.5.sfs",
      ],
    );
  });
  it("DISTRO_*SFS overrides a name", () => {
    const { distro } = parseDistroSpecs(
      "DISTRO_VERSION=1\nDISTRO_FILE_PREFIX=p\nDISTRO_PUPPYSFS=main.sfs\nDISTRO_ADRVSFS=apps.sfs\n",
    );
    assert.equal(distro?.sfs.puppy, "main.sfs");
    assert.equal(distro.sfs.adrv, "apps.sfs");
  });
  it("is an error without a prefix or version", () => {
    assert.match(parseDistroSpecs("DISTRO_VERSION=1\n").errors.join(), /no DISTRO_FILE_PREFIX/);
    assert.match(parseDistroSpecs("DISTRO_FILE_PREFIX=x\n").errors.join(), /no DISTRO_VERSION/);
    assert.match(parseDistroSpecs("DISTRO_FILE_PREFIX='a b'\nDISTRO_VERSION=1\n").errors.join(), /unusable/);
  });
});

describe("boot parameters", () => {
  const cases: [string, string, (p: ReturnType<typeof parseParams>) => void][] = [
    [
      "pupsfs wins over pdrv and pdev1",
      "pupsfs=sdc1 pdev1=sda1 pdrv=sdb1",
      (r) => assert.equal(r.params.pupsfs, "sdc1"),
    ],
    ["pdrv wins over pdev1", "pdrv=sdb1 pdev1=sda1", (r) => assert.equal(r.params.pupsfs, "sdb1")],
    ["psubdir gets a leading slash", "psubdir=puppy/", (r) => assert.equal(r.params.psubdir, "/puppy")],
    [
      "pfix is a list",
      "pfix=ram,nox,fsck,fsckp,rdsh,clean,xorgwizard,3",
      (r) =>
        assert.deepEqual(r.params.pfix, {
          ram: true,
          rdsh: true,
          xorgwizard: true,
          nox: true,
          clean: true,
          copy: false,
          nocopy: false,
          fsck: true,
          fsckp: true,
          ignoreNewest: 3,
        }),
    ],
    [
      "unknown pfix words are reported",
      "pfix=ram,bogus",
      (r) => assert.match(r.warnings.join(), /pfix=bogus is not a known boot parameter/),
    ],
    ["copy and nocopy together: nocopy wins", "pfix=copy,nocopy", (r) => assert.equal(r.params.pfix.copy, false)],
    ["waitdev defaults to 5", "", (r) => assert.equal(r.params.waitdev, 5)],
    ["waitdev is read", "waitdev=12", (r) => assert.equal(r.params.waitdev, 12)],
    [
      "a bad waitdev keeps the default",
      "waitdev=soon",
      (r) => {
        assert.equal(r.params.waitdev, 5);
        assert.match(r.warnings.join(), /waitdev=soon/);
      },
    ],
    ["a huge waitdev is capped", "waitdev=99999", (r) => assert.equal(r.params.waitdev, 600)],
    [
      "pimod is a comma list",
      "pimod=usbhid,hid-generic,,",
      (r) => assert.deepEqual(r.params.pimod, ["usbhid", "hid-generic"]),
    ],
    ["plang without _ is ignored", "plang=es", (r) => assert.equal(r.params.plang, null)],
    ["plang", "plang=es_ES.UTF-8", (r) => assert.equal(r.params.plang, "es_ES.UTF-8")],
    [
      "unknown pmedia is reported and ignored",
      "pmedia=usbflsh",
      (r) => {
        assert.equal(r.params.pmedia, "");
        assert.match(r.warnings.join(), /pmedia=usbflsh/);
      },
    ],
    ["punionfs", "punionfs=aufs", (r) => assert.equal(r.params.punionfs, "aufs")],
    ["bad punionfs", "punionfs=zfs", (r) => assert.equal(r.params.punionfs, null)],
    ["psavemark", "psavemark=3", (r) => assert.equal(r.params.psavemark, 3)],
    ["bad psavemark", "psavemark=x", (r) => assert.equal(r.params.psavemark, null)],
    [
      "pwireless: SSID before the last ':', password after the first",
      "pwireless=my:net:pa:ss",
      (r) => assert.deepEqual(r.params.wireless, { ssid: "my:net:pa", password: "net:pa:ss" }),
    ],
    [
      "find_iso has the highest priority",
      "find_iso=/c.iso isofrom=/a.iso findiso=/b.iso",
      (r) => assert.equal(r.params.isoFile, "/c.iso"),
    ],
    [
      "iso-scan/filename only when no other ISO parameter",
      "iso-scan/filename=/u.iso",
      (r) => assert.equal(r.params.isoFile, "/u.iso"),
    ],
    [
      "iso-scan/filename loses to isofrom",
      "iso-scan/filename=/u.iso isofrom=/a.iso",
      (r) => assert.equal(r.params.isoFile, "/a.iso"),
    ],
    ["empty values count as not given", "psave= pupsfs=", (r) => assert.equal(r.params.psave ?? r.params.pupsfs, null)],
    ["root= is read", "root=/dev/sda2", (r) => assert.equal(r.params.root, "/dev/sda2")],
    ["loglevel", "loglevel=7", (r) => assert.equal(r.params.loglevel, 7)],
    ["fullinstall is reported as unsupported", "fullinstall", (r) => assert.match(r.warnings.join(), /fullinstall/)],
  ];
  for (const [name, cmdline, check] of cases) it(name, () => check(parseParams(cmdline)));
});

describe("partition[:path/filename] specs", () => {
  const cases: [string, string, { id: string; path: string; isDir: boolean }][] = [
    ["sdb1", "/puppy", { id: "sdb1", path: "", isDir: false }],
    ["sdb1:/x/y.sfs", "/puppy", { id: "sdb1", path: "/x/y.sfs", isDir: false }],
    ["sdb1:y.sfs", "/puppy", { id: "sdb1", path: "/puppy/y.sfs", isDir: false }],
    ["sdb1:y.sfs", "", { id: "sdb1", path: "/y.sfs", isDir: false }],
    ["sdb1:x/y.sfs", "/puppy", { id: "sdb1", path: "/x/y.sfs", isDir: false }],
    [":/alt.sfs", "", { id: "", path: "/alt.sfs", isDir: false }],
    ["MYLABEL:/saves/", "", { id: "MYLABEL", path: "/saves/", isDir: true }],
    ["sdb2:/", "", { id: "sdb2", path: "/", isDir: true }],
    ["sdb2:a:b.sfs", "", { id: "sdb2", path: "/a:b.sfs", isDir: false }],
  ];
  for (const [value, psubdir, want] of cases)
    it(`${value} (psubdir '${psubdir}')`, () => assert.deepEqual(decodeSpec(value, psubdir), want));
  it("a directory spec takes the default file name", () => {
    assert.equal(sfsPathFor(decodeSpec("sdb1:/sfs/", ""), "adrv_x.sfs", ""), "/sfs/adrv_x.sfs");
    assert.equal(sfsPathFor(decodeSpec("sdb1", "/p"), "adrv_x.sfs", "/p"), "/p/adrv_x.sfs");
  });
});

describe("the package cache's file names", () => {
  it("are the package's own architecture's or arch all's, never another architecture's of the same version", async () => {
    const { debFileNames, hostDebArch } = await import("../../src/build/cache.js");
    const host = hostDebArch();
    assert.deepEqual(debFileNames("busybox-static", "1:1.35.0-4+deb12u1+b1"), [
      `busybox-static_1%3a1.35.0-4+deb12u1+b1_${host}.deb`,
      "busybox-static_1%3a1.35.0-4+deb12u1+b1_all.deb",
    ]);
    assert.deepEqual(debFileNames("libc6:arm64", "2.36-9+deb12u14"), [
      "libc6_2.36-9+deb12u14_arm64.deb",
      "libc6_2.36-9+deb12u14_all.deb",
    ]);
  });
});
