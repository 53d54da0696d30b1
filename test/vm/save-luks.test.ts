// VM tier: an encrypted save. The running system makes a LUKS2 save file
// ('ramstack save --new file --encrypt'); the init asks for its password at
// the next boot, gives a wrong one another try, opens it with the right one,
// and boots in RAM, leaving the file as it was, when no password is given.
// The password is never written to the disk.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { sha256 } from "../../src/sys/hash.js";
import { Vm } from "../../src/vm/qemu.js";
import { boot, bootDisk, guestMounts, guestVars, kernelVm, scratch, testBuild } from "../helpers/system.js";

const PASSWORD = "Correct-Horse-7391";

/** The save file's bytes, read from the disk image's first partition (at 1 MiB) with debugfs. */
function saveDigest(disk: string): string {
  const r = spawnSync("debugfs", ["-R", "cat /tinysave_luks.2fs", `${disk}?offset=1048576`], { maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, String(r.stderr));
  assert.ok(r.stdout.length >= 64 << 20, "debugfs read the whole save file");
  return sha256(r.stdout);
}

describe("an encrypted save (LUKS2)", { timeout: 900000 }, () => {
  const vms: Vm[] = [];
  after(async () => Promise.all(vms.map((vm) => vm.kill())));

  it("is made by ramstack save --new file --encrypt, asked for at boot, and never holds its password in clear", async () => {
    const dir = scratch("luks");
    const disk = bootDisk({ build: testBuild(), dir, spareMiB: 96 });
    // A boot of the disk, up to the first question for the save's password.
    const atPasswordPrompt = async (): Promise<Vm> => {
      const v = Vm.start(kernelVm(testBuild(), [{ file: disk, bus: "virtio" }]));
      vms.push(v);
      await v.waitFor(/Password for the encrypted save vda1:\/tinysave_luks\.2fs \(try 1 of 3/, 240000);
      return v;
    };
    let { vm }: { vm: Vm } = await boot(testBuild(), [{ file: disk, bus: "virtio" }]);
    vms.push(vm);
    await vm.check("echo private-notes > /root/secret.txt");
    const made = await vm.check(
      `printf '%s\\n' '${PASSWORD}' | ramstack save --new file --encrypt --size 64 2>&1`,
      240000,
    );
    assert.match(made, /Saved the session in .*\/tinysave_luks\.2fs .*; the next boot uses it \(PUPMODE 12\)/);
    assert.equal(
      await vm.check("head -c 6 /initrd/mnt/vda1/tinysave_luks.2fs 2>/dev/null | od -An -c | tr -s ' '"),
      " L U K S 272 276",
    );
    assert.match(
      await vm.check("ramstack save --shutdown 2>&1"),
      /made its first save earlier \(vda1:\/tinysave_luks\.2fs\)/,
    );
    await vm.check("sync");
    await vm.kill();
    assert.equal(readFileSync(disk).includes(PASSWORD), false, "the password is nowhere on the disk");
    assert.equal(
      readFileSync(disk).includes("private-notes"),
      false,
      "the session's files are not on the disk in clear",
    );

    // A wrong password, then the right one.
    vm = await atPasswordPrompt();
    let from = vm.console.length;
    vm.send("not-the-password\n");
    await vm.waitFor(/Wrong password\.[\s\S]*try 2 of 3/, 120000, from);
    assert.equal(vm.console.slice(from).includes("not-the-password"), false, "the password is not echoed");
    from = vm.console.length;
    vm.send(`${PASSWORD}\n`);
    await vm.waitFor(/Opened the encrypted save vda1:\/tinysave_luks\.2fs/, 120000, from);
    await vm.waitFor(/ramstack: system up/, 240000, from);
    await vm.shellReady(60000);
    const s = await guestVars(vm, "/etc/rc.d/PUPSTATE");
    assert.equal(s.PUPMODE, "12");
    assert.equal(s.PUPSAVE, "vda1,ext4,/tinysave_luks.2fs");
    assert.equal(await vm.check("cat /root/secret.txt"), "private-notes");
    const mounts = await guestMounts(vm);
    assert.equal(mounts.get("/initrd/pup_loop")?.source, "/dev/mapper/savefile");
    assert.equal(await vm.check("readlink /initrd/pup_rw"), "/initrd/pup_loop/upper");
    await vm.check("echo second > /root/second.txt; sync");
    // As if an older version had made it: the save's copy of DISTRO_SPECS, inside the encrypted file.
    await vm.check(
      "sed -i \"s/^DISTRO_VERSION=.*/DISTRO_VERSION='0.0.9'/\" /initrd/DISTRO_SPECS; grep -q 0.0.9 /initrd/pup_rw/initrd/DISTRO_SPECS; sync",
    );
    await vm.kill();

    // No password: the boot goes on in RAM and the save is left exactly as it was.
    const before = saveDigest(disk);
    vm = await atPasswordPrompt();
    from = vm.console.length;
    vm.send("\n");
    await vm.waitFor(
      /no password given: the encrypted save vda1:\/tinysave_luks\.2fs stays closed[\s\S]*in RAM/,
      120000,
      from,
    );
    await vm.waitFor(/ramstack: system up/, 240000, from);
    await vm.shellReady(60000);
    assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "5");
    assert.equal(await vm.check("test -e /root/secret.txt && echo there || echo absent"), "absent");
    await vm.kill();
    assert.equal(saveDigest(disk), before, "a boot without the password leaves the save as it was");

    // Opened, the save shows another version: the init asks, as for any save. "no": closed again, untouched, RAM.
    vm = await atPasswordPrompt();
    vm.send(`${PASSWORD}\n`);
    await vm.waitFor(/Use it anyway\?[\s\S]*Choice \[no\]/, 240000);
    from = vm.console.length;
    vm.send("no\n");
    await vm.waitFor(/not accepted, so the save is left as it was[\s\S]*in RAM/, 120000, from);
    await vm.waitFor(/ramstack: system up \(PUPMODE 5\)/, 240000, from);
    await vm.shellReady(60000);
    assert.doesNotMatch(await vm.check("ls /dev/mapper"), /savefile/, "the container was closed again");
    await vm.kill();
    assert.equal(saveDigest(disk), before, "a declined save is left as it was");

    // "yes" cleans it up and uses it.
    vm = await atPasswordPrompt();
    vm.send(`${PASSWORD}\n`);
    await vm.waitFor(
      /the save was made by version 0\.0\.9, this is 0\.1\.0\. Use it anyway\?[\s\S]*Choice \[no\]/,
      240000,
    );
    vm.send("yes\n");
    await vm.waitFor(/Save: cleaned up for this version/, 120000);
    await vm.waitFor(/ramstack: system up \(PUPMODE 12\)/, 240000);
    await vm.shellReady(60000);
    assert.equal(await vm.check("cat /root/second.txt"), "second");
    assert.match(
      await vm.check("cat /initrd/pup_rw/initrd/DISTRO_SPECS"),
      /^DISTRO_VERSION='?0\.1\.0'?$/m,
      "the save now carries this version",
    );
    await vm.kill();
  });
});
