// VM tier: `ramstack sfs` in the running system (PUPMODE 12, a save folder):
// a program from an SFS runs without a reboot, goes with `unload`, leaves
// nothing in the save, and `--boot` makes the init stack it at the next boot.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Vm } from "../../src/vm/qemu.js";
import { boot, bootDisk, makeSfs, makeTree, scratch, testBuild, waitExit } from "../helpers/system.js";

describe("loading an SFS while running", { timeout: 900000 }, () => {
  const vms: Vm[] = [];
  after(async () => Promise.all(vms.map((vm) => vm.kill())));

  it("load makes its program runnable at once, unload takes it away, --boot brings it back at the next boot", async () => {
    const dir = scratch("sfs-load");
    const save = makeTree(join(dir, "save"), { "upper/root/.keep": "" });
    const sfs = makeSfs(join(dir, "tools.sfs"), {
      "usr/bin/hello-sfs": "#!/bin/sh\necho hello from the sfs\n",
      "usr/share/tools/readme": "tools\n",
    });
    const disk = bootDisk({ build: testBuild(), dir, extra: { tinysave: save, "tools.sfs": sfs } });
    let { vm } = await boot(testBuild(), [{ file: disk, bus: "virtio" }]);
    vms.push(vm);
    const file = "/initrd/mnt/dev_save/tools.sfs";
    assert.equal(await vm.check("command -v hello-sfs || echo none"), "none");
    assert.match(await vm.check(`ramstack sfs load ${file}`, 60000), /^Loaded tools\.sfs: 2 files linked into \/$/m);
    assert.equal(await vm.check("hello-sfs"), "hello from the sfs");
    const list = JSON.parse(await vm.check("ramstack sfs list --json", 60000)) as {
      loaded: { name: string; links: number }[];
      boot: string[];
    };
    assert.deepEqual(list, { loaded: [{ name: "tools.sfs", file, links: 2, shadowed: 0 }], boot: [] });
    // Loading it twice is refused; a file that is not a squashfs gives a clear line and changes nothing.
    assert.match(await vm.check(`ramstack sfs load ${file} 2>&1; echo "exit $?"`, 60000), /loaded already.*\nexit 1$/s);
    assert.match(
      await vm.check(`echo junk > /tmp/bad.sfs; ramstack sfs load /tmp/bad.sfs 2>&1; echo "exit $?"`, 60000),
      /does not mount as a squashfs.*\nexit 1$/s,
    );
    // --boot wants the file where the init looks.
    assert.match(
      await vm.check(`cp ${file} /root/copy.sfs; ramstack sfs load --boot /root/copy.sfs 2>&1; echo "exit $?"`, 60000),
      /the init looks for copy\.sfs in \/initrd\/mnt\/dev_save\/copy\.sfs: copy it there.*\nexit 1$/s,
    );

    assert.match(await vm.check("ramstack sfs unload tools.sfs", 60000), /^Unloaded tools\.sfs: 2 links removed\.$/m);
    assert.equal(await vm.check("command -v hello-sfs || echo none"), "none");
    // PUPMODE 12: the save is the writable layer, and nothing of the SFS is left in it.
    assert.equal(
      await vm.check("ls /initrd/pup_rw/usr/bin/hello-sfs /initrd/pup_rw/usr/share/tools 2>&1 | wc -l"),
      "2",
    );
    assert.doesNotMatch(await vm.check("ls -R /initrd/pup_rw/usr 2>/dev/null; true"), /hello-sfs|tools/);
    assert.equal(await vm.check("grep -c tools.sfs /proc/mounts; true"), "0");

    // Loaded again, now for every boot; poweroff unloads it before the shutdown's save.
    assert.match(
      await vm.check(`ramstack sfs load --boot ${file}`, 60000),
      /stacked at every boot \(EXTRASFSLIST\)\.$/m,
    );
    assert.match(await vm.check("cat /etc/rc.d/BOOTCONFIG"), /^EXTRASFSLIST='tools\.sfs'$/m);
    vm.send("poweroff\n");
    await waitExit(vm, 120000);

    ({ vm } = await boot(testBuild(), [{ file: disk, bus: "virtio" }]));
    vms.push(vm);
    // A layer of this boot, stacked by the init (a layer, not links).
    assert.equal(await vm.check("hello-sfs"), "hello from the sfs");
    assert.match(await vm.check("cat /initrd/tmp/bootinit.log"), /extra: tools\.sfs on vda1 \(EXTRASFSLIST\)/);
    assert.equal(await vm.check("test -L /usr/bin/hello-sfs && echo link || echo file"), "file");
    assert.match(await vm.check("ramstack sfs list", 60000), /^At every boot \(EXTRASFSLIST\): tools\.sfs$/m);
    // Not loaded while running: unload says what --boot does.
    assert.match(
      await vm.check('ramstack sfs unload tools.sfs 2>&1; echo "exit $?"', 60000),
      /stacked by the init at boot, not loaded while running: --boot takes it out of the next boots\nexit 1$/,
    );
    assert.match(await vm.check("ramstack sfs unload --boot tools.sfs", 60000), /no longer stacked at boot\.$/m);
    // LASTUNIONRECORD still names this boot's layers, as Puppy's does.
    assert.match(await vm.check("cat /etc/rc.d/BOOTCONFIG"), /^EXTRASFSLIST=''$/m);
    await vm.kill();
  });
});
