// VM tier: the webdev task. The debian test build's webdev layer, stacked
// with ptask=webdev, boots into lighttpd with PHP and the development
// server; both are reached from this machine through forwarded ports, and a
// page edited in the guest is pushed to the browser and served changed.
// Then the same task added while running (`ramstack task add`) from a local
// apt repository of the packages the layer's build fetched: kept by a
// save, gone at a boot without it.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import type { Vm } from "../../src/vm/qemu.js";
import { TASKS } from "../../src/tasks/table.js";
import { Browser } from "../helpers/browser.js";
import { freePort, get } from "../helpers/net.js";
import { colourCount, readPng, writePng } from "../helpers/picture.js";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheDir } from "../../src/build/cache.js";
import type { AptRepo } from "../helpers/apt-repo.js";
import { makeAptRepoOf, serveAptRepo } from "../helpers/apt-repo.js";
import {
  boot,
  bootDisk,
  DEBIAN_BOOT,
  guestMounts,
  guestVars,
  lowerDirs,
  repoRoot,
  scratch,
  testBuild,
} from "../helpers/system.js";

const ARTIFACTS = join(repoRoot, "out/test-artifacts");

/** The development server's reload stream, read from this machine: resolves at its first "reload" event. */
function reloadEvent(url: string, timeoutMs: number): { opened: Promise<void>; reloaded: Promise<string> } {
  let opened!: () => void;
  const openedP = new Promise<void>((r) => (opened = r));
  const reloaded = new Promise<string>((resolve, reject) => {
    const req = request(url, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        text += d;
        if (text.includes("waiting for a change")) opened();
        if (/^data: reload$/m.test(text)) {
          req.destroy();
          resolve(text);
        }
      });
    });
    req.on("error", (e) => reject(e));
    setTimeout(() => {
      req.destroy();
      reject(new Error(`no reload event in ${timeoutMs / 1000} s`));
    }, timeoutMs).unref();
    req.end();
  });
  return { opened: openedP, reloaded };
}

describe("the webdev task", { timeout: 900000 }, () => {
  let vm: Vm | undefined;
  let web: number;
  let dev: number;
  before(async () => {
    const build = testBuild("debian");
    const disk = bootDisk({ build, dir: scratch("webdev"), spareMiB: 128 });
    web = await freePort();
    dev = await freePort();
    const r = await boot(build, [{ file: disk, bus: "virtio" }], "ptask=webdev", {
      ...DEBIAN_BOOT,
      net: {
        forwards: [
          { host: web, guest: 80 },
          { host: dev, guest: 8000 },
        ],
      },
    });
    vm = r.vm;
  });
  after(async () => vm?.kill());

  it("stacks the task's layer on top of the system, above bdrv", async () => {
    const lowers = lowerDirs((await guestMounts(vm!)).get("/")!.options);
    assert.deepEqual(lowers, ["/pup_ro3", "/pup_b", "/pup_ro2", "/pup_z"]);
    assert.match(
      await vm!.check("dpkg-query -W -f '${Status}\\n' lighttpd php-cgi nodejs git"),
      /^(install ok installed\n?){4}$/,
    );
  });

  it("passes its health check: lighttpd runs PHP, the development server answers", async () => {
    // The services start beside the boot's last steps: give them a few seconds.
    await vm!.check(`i=0; until ${TASKS.webdev!.health}; do i=$((i+1)); [ $i -lt 60 ] || exit 1; sleep 1; done`, 90000);
  });

  it("serves /srv/www with PHP to this machine through a forwarded port", async () => {
    assert.match(await get(`http://127.0.0.1:${web}/info.php`), /^200 PHP 8\.2\./);
    assert.match(await get(`http://127.0.0.1:${web}/`), /^200 [^]*<h1>ramstack webdev<\/h1>/);
  });

  it("pushes a change made in the guest to the page, which then shows it, on both servers", async () => {
    const page = await get(`http://127.0.0.1:${dev}/`);
    assert.match(page, /^200 [^]*<h1>ramstack webdev<\/h1>/);
    assert.match(page, /new EventSource\("\/__ramstack_reload"\)/);
    const events = reloadEvent(`http://127.0.0.1:${dev}/__ramstack_reload`, 30000);
    await events.opened;
    await vm!.check("sed -i 's|<h1>ramstack webdev</h1>|<h1>edited in the guest</h1>|' /srv/www/index.html");
    assert.match(await events.reloaded, /^data: reload$/m);
    assert.match(await get(`http://127.0.0.1:${dev}/`), /<h1>edited in the guest<\/h1>/);
    assert.match(await get(`http://127.0.0.1:${web}/`), /<h1>edited in the guest<\/h1>/);
  });

  it("in a real browser on this machine (headless Chromium), the page reloads itself when it is edited in the guest (out/test-artifacts/webdev-browser.png)", async () => {
    const browser = await Browser.open(`http://127.0.0.1:${dev}/`);
    try {
      const heading = "document.querySelector('h1') && document.querySelector('h1').textContent";
      assert.equal(await browser.waitFor(`${heading} === 'edited in the guest' && 'loaded'`, 30000), "loaded");
      await vm!.check("sed -i 's|<h1>edited in the guest</h1>|<h1>seen in a browser</h1>|' /srv/www/index.html");
      // Nobody reloads it: the development server tells the page, which reloads itself.
      assert.equal(await browser.waitFor(`${heading} === 'seen in a browser' && 'reloaded'`, 30000), "reloaded");
      const png = join(scratch("webdev-browser"), "page.png");
      writeFileSync(png, await browser.screenshot());
      const picture = readPng(png);
      mkdirSync(ARTIFACTS, { recursive: true });
      writePng(picture, join(ARTIFACTS, "webdev-browser.png"));
      assert.ok(colourCount(picture) > 2, "the browser drew a blank page");
    } finally {
      await browser.close();
    }
  });
});

/** Boot with a network card and the web server's port forwarded; the console's shell is ready when this returns. */
async function bootWeb(build: string, disk: string, cmdline: string, web: number): Promise<Vm> {
  const r = await boot(build, [{ file: disk, bus: "virtio" }], cmdline, {
    ...DEBIAN_BOOT,
    net: { forwards: [{ host: web, guest: 80 }] },
  });
  return r.vm;
}

/**
 * apt installing webdev's ~80 packages in the guest takes about 13 minutes
 * under TCG (dpkg on the overlay, PHP's and Node's maintainer scripts): too
 * long for npm test's 30, so this part runs when RAMSTACK_SLOW_TESTS=1.
 */
const SLOW = process.env.RAMSTACK_SLOW_TESTS === "1";

describe(
  "the webdev task added while running",
  {
    timeout: 3600000,
    skip: SLOW ? false : "takes over 12 minutes under TCG: RAMSTACK_SLOW_TESTS=1 runs it",
  },
  () => {
    let build: string;
    let disk: string;
    let web: number;
    let repo: AptRepo | undefined;
    let vm: Vm | undefined;
    before(async () => {
      build = testBuild("debian");
      const dir = scratch("webdev-add");
      // Room for the save that keeps the task's packages.
      disk = bootDisk({ build, dir, spareMiB: 640 });
      const debs = join(cacheDir(), "task-debs");
      makeAptRepoOf(
        readdirSync(debs)
          .filter((n) => n.endsWith(".deb"))
          .map((n) => join(debs, n)),
        join(dir, "repo"),
      );
      repo = await serveAptRepo(join(dir, "repo"));
      web = await freePort();
      vm = await bootWeb(build, disk, "", web);
    });
    after(async () => {
      await vm?.kill();
      await repo?.close();
    });

    it("adds it from Debian's packages, and it works at once (waiting for the network the boot brings up)", async () => {
      const v = vm!;
      assert.match(await v.check("ramstack task list"), /^webdev\s+not added\b/m);
      await v.check(`echo '${repo!.source}' > /etc/apt/sources.list`);
      const out = await v.check("ramstack task add webdev 2>&1", 1800000);
      assert.match(
        out,
        /Added webdev: \d+ packages installed, lighttpd, ramstack-devserver started; its health check passes\./,
      );
      assert.match(await get(`http://127.0.0.1:${web}/info.php`), /^200 PHP 8\.2\./);
      const list = JSON.parse(await v.check("ramstack task list --json")) as {
        tasks: { name: string; installed: boolean; layer: boolean }[];
      };
      const w = list.tasks.find((t) => t.name === "webdev")!;
      assert.deepEqual([w.installed, w.layer], [true, false]);
    });

    it("a save keeps it: after a reboot it is there, started by its own init scripts", async () => {
      await vm!.check("echo '<p>mine</p>' > /srv/www/mine.html");
      assert.match(await vm!.check("ramstack save new folder 2>&1", 600000), /Saved the session in .*debiansave/);
      await vm!.check("sync");
      await vm!.kill();
      vm = await bootWeb(build, disk, "", web);
      assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "12");
      assert.match(await vm.check("ramstack task list"), /^webdev\s+added\b/m);
      await vm.check(
        `i=0; until ${TASKS.webdev!.health}; do i=$((i+1)); [ $i -lt 60 ] || exit 1; sleep 1; done`,
        90000,
      );
      assert.match(await get(`http://127.0.0.1:${web}/mine.html`), /^200 <p>mine<\/p>/);
    });

    it("removing it purges its packages and keeps the project's files", async () => {
      assert.match(
        await vm!.check("ramstack task remove webdev 2>&1", 600000),
        /Removed webdev; its project files stay\./,
      );
      assert.match(await vm!.check("ramstack task list"), /^webdev\s+not added\b/m);
      assert.equal(await vm!.check("command -v php-cgi lighttpd node || echo gone"), "gone");
      assert.equal(await vm!.check("cat /srv/www/mine.html"), "<p>mine</p>");
      await vm!.kill();
      vm = undefined;
    });

    it("without a save it is not there (pfix=ram)", async () => {
      vm = await bootWeb(build, disk, "pfix=ram", web);
      assert.equal((await guestVars(vm, "/etc/rc.d/PUPSTATE")).PUPMODE, "5");
      assert.match(await vm.check("ramstack task list"), /^webdev\s+not added\b/m);
      assert.equal(await vm.check("test -e /srv/www/mine.html || echo gone"), "gone");
    });
  },
);
