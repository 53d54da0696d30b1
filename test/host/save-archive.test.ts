// Host tier: archive saves (PUPMODE 66) round-trip a RAM layer through
// PREFIXsave66.tar.gz with GNU tar: whiteouts (0:0 character devices),
// opaque directories and other xattrs, symlinks, hard links, modes, owners
// and times come back as they were; what saves leave out stays out; a new
// archive is written beside the old one and renamed over it.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, linkSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { archiveMembers, unpackArchiveArgs, writeArchive } from "../../src/save/archive.js";
import { scratch } from "../helpers/system.js";

const sh = (script: string): string => {
  const r = spawnSync("sh", ["-ec", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

/** Type, mode, owner, size, mtime, link target and inode-sharing of every entry, with xattrs: what must survive. */
const listing = (dir: string): string =>
  sh(
    `cd ${dir} && find . -mindepth 1 -printf '%p %y %m %U:%G %s %T@ %l %n\\n' | sort; getfattr -R -h -d -m - . 2>/dev/null | grep -v '^$' || true`,
  );

function layer(dir: string): string {
  mkdirSync(join(dir, "root"), { recursive: true });
  writeFileSync(join(dir, "root/notes.txt"), "kept\n");
  utimesSync(join(dir, "root/notes.txt"), 1700000000.25, 1700000000.5);
  writeFileSync(join(dir, "root/secret"), "x\n", { mode: 0o600 });
  chownSync(join(dir, "root/secret"), 1000, 1000);
  linkSync(join(dir, "root/notes.txt"), join(dir, "root/notes-link.txt"));
  symlinkSync("notes.txt", join(dir, "root/latest"));
  mkdirSync(join(dir, "etc/opaque"), { recursive: true });
  sh(`setfattr -n trusted.overlay.opaque -v y ${dir}/etc/opaque; setfattr -n user.tag -v blue ${dir}/root/notes.txt`);
  mkdirSync(join(dir, "bin"));
  sh(`mknod ${dir}/bin/vi c 0 0`);
  mkdirSync(join(dir, "tmp"));
  writeFileSync(join(dir, "tmp/scratch"), "not saved\n");
  writeFileSync(join(dir, "root/big.part"), "a download in progress\n");
  return dir;
}

describe("archive saves (PUPMODE 66)", () => {
  it("come back from the archive exactly as they were, without what saves leave out", () => {
    const dir = scratch("archive-host");
    const ram = layer(join(dir, "ram"));
    const archive = join(dir, "tinysave66.tar.gz");
    const r = writeArchive(ram, archive);
    assert.ok(r.bytes > 0);
    assert.equal(existsSync(`${archive}.new`), false);
    assert.deepEqual(
      archiveMembers(ram).filter((m) => /tmp|\.part$/.test(m)),
      [],
      "tmp and partial downloads are left out",
    );

    const back = join(dir, "back");
    mkdirSync(back);
    sh(
      `tar ${unpackArchiveArgs(archive, back)
        .map((a) => `'${a}'`)
        .join(" ")}`,
    );
    // The expected view: the layer without what saves leave out (root's time kept as the archive has it).
    sh(`t=$(stat -c %y ${ram}/root); rm -rf ${ram}/tmp ${ram}/root/big.part; touch -h -d "$t" ${ram}/root`);
    assert.equal(listing(back), listing(ram));
    assert.match(listing(back), /\.\/bin\/vi c /, "the whiteout is a character device");
    assert.match(listing(back), /trusted\.overlay\.opaque="y"/);
  });
});
