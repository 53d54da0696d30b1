// VM tier: user-mode networking (`ramstack run --net`, `--forward HOST:GUEST`):
// a web server in the guest (busybox httpd) is reached from this machine
// through a forwarded port on 127.0.0.1, and a change made in the guest
// shows on the next request.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Vm } from "../../src/vm/qemu.js";
import { Vm as VmClass } from "../../src/vm/qemu.js";
import { freePort, get } from "../helpers/net.js";
import { bootDisk, kernelVm, scratch, testBuild } from "../helpers/system.js";

describe("networking in the guest: a forwarded port reaches its web server", { timeout: 600000 }, () => {
  let vm: Vm | undefined;
  after(async () => vm?.kill());

  it("serves a page to this machine through --forward, and serves the edited page after a change", async () => {
    const host = await freePort();
    const build = testBuild();
    vm = VmClass.start({
      ...kernelVm(build, [{ file: bootDisk({ build, dir: scratch("net") }), bus: "virtio" }]),
      net: { forwards: [{ host, guest: 8080 }] },
    });
    await vm.waitFor(/ramstack: system up/, 240000);
    await vm.shellReady(60000);
    // The tiny system brings no network up by itself: the card's driver from the zdrv, QEMU's user network's address.
    await vm.check(
      "modprobe virtio_net && ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2",
    );
    assert.match(await vm.check("ip -o addr show eth0"), /inet 10\.0\.2\.15\/24/);
    await vm.check("mkdir -p /srv/www && echo 'first version' > /srv/www/index.html && httpd -p 8080 -h /srv/www");
    assert.equal(await get(`http://127.0.0.1:${host}/`), "200 first version\n");
    await vm.check("echo 'edited in the guest' > /srv/www/index.html");
    assert.equal(await get(`http://127.0.0.1:${host}/`), "200 edited in the guest\n");
    await vm.kill();
  });
});
