// Host tier: the QuickJS runtime (src/build/quickjs.ts, native/*.c) built for
// this machine, every ramstack:sys function run from ES module scripts on
// real files, real mounts (in a private mount namespace), real loop devices,
// a real pipe and a real terminal, its answers checked against Node and the
// usual tools. Also the arm64 cross-build, checked from its ELF header.

import "../helpers/node-port.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  buildQuickjs,
  quickjsBuildKey,
  quickjsMissingPackages,
  readElf,
  verifyQuickjsSources,
  QUICKJS_NPM,
} from "../../src/build/quickjs.js";
import { fetchNpm } from "../../src/build/cache.js";
import { have, run, start, type RunResult } from "../../src/sys/exec.js";
import { moduleName, parseModuleIndex, resolveModule } from "../../src/port/module-index.js";

const isRoot = process.getuid?.() === 0;
const log = (s: string): void => console.log(`  ${s}`);

/** What every test script starts with. */
const PRELUDE = `
import * as sys from "ramstack:sys";
import * as std from "std";
import * as os from "os";
const out = (o) => { std.out.puts(JSON.stringify(o) + "\\n"); std.out.flush(); };
const err = (f) => { try { f(); return null; } catch (e) { return { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path }; } };
const write = (p, s) => { const f = std.open(p, "w"); f.puts(s); f.close(); };
const sh = (cmd) => { const f = std.popen(cmd, "r"); const s = f.readAsString(); f.close(); return s.trim(); };
// std.loadFile sizes a file with fseek/ftell and gives null for /proc and /sys files: read to the end instead.
const readAll = (p) => { const f = std.open(p, "r"); const s = f.readAsString(); f.close(); return s; };
const codes = (s) => s === null ? null : Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));
`;

describe("QuickJS runtime with ramstack:sys", { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ramstack-qjs-"));
  let qjs = "";
  let n = 0;
  after(() => rmSync(dir, { recursive: true, force: true }));
  before(() => {
    const missing = quickjsMissingPackages("x86_64");
    assert.deepEqual(missing, [], `the host build needs Debian packages: ${missing.join(" ")}`);
    qjs = buildQuickjs("x86_64", log);
  });

  /** Writes SOURCE (after the prelude) to a file and runs it, optionally through a wrapper command (unshare). */
  function script(
    source: string,
    args: readonly string[] = [],
    wrap: readonly string[] = [],
  ): { r: RunResult; file: string } {
    const file = join(dir, `s${n++}.js`);
    writeFileSync(file, PRELUDE + source);
    const cmd = [...wrap, qjs, file, ...args];
    return { r: run(cmd[0]!, cmd.slice(1), { allowFail: true, timeoutMs: 60_000 }), file };
  }
  /** The JSON objects a script printed, one a line. */
  const outputs = (r: RunResult): Record<string, unknown>[] => {
    assert.equal(r.status, 0, `script failed (${r.status}): ${r.stderr}${r.stdout}`);
    return r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  const privateNs = ["unshare", "-m", "--propagation", "private"];

  it("is a static x86_64 executable, cached after the first build", () => {
    const elf = readElf(qjs);
    assert.equal(elf.machine, "x86_64");
    assert.equal(elf.interpreter, false, "no dynamic loader");
    const t = Date.now();
    assert.equal(buildQuickjs("x86_64"), qjs);
    assert.ok(Date.now() - t < 5000, "the second call reuses the cache");
  });

  it("runs an ES module with scriptArgs, exit statuses, relative imports and -e", () => {
    writeFileSync(join(dir, "helper.js"), "export const twice = (x) => 2 * x;\n");
    const { r } = script(
      `import { twice } from "./helper.js"; out({ args: scriptArgs.slice(1), twice: twice(21), meta: import.meta.url.endsWith(".js") });`,
      ["a", "b c"],
    );
    assert.deepEqual(outputs(r), [{ args: ["a", "b c"], twice: 42, meta: true }]);

    const thrown = script(`throw new Error("boom from the module");`).r;
    assert.equal(thrown.status, 1);
    assert.match(thrown.stderr, /boom from the module/);

    assert.equal(script(`std.exit(3);`).r.status, 3);

    const e = run(qjs, [
      "-e",
      `import * as sys from "ramstack:sys"; console.log(scriptArgs.join("|"), sys.sha256("abc").slice(0, 8))`,
      "x",
      "y",
    ]);
    assert.equal(e.stdout, "<cmdline>|x|y ba7816bf\n");

    const rejected = script(`Promise.reject(new Error("nobody catches this"));`).r;
    assert.match(rejected.stderr, /nobody catches this/, "unhandled rejections are printed");
  });

  it("compiles a module to bytecode (-c) and runs the .qbc with the same result", () => {
    const src = join(dir, "bc-src.js");
    writeFileSync(
      src,
      PRELUDE +
        `const fib = (n) => (n < 2 ? n : fib(n - 1) + fib(n - 2));\nout({ fib: fib(20), args: scriptArgs.slice(1), hash: sys.sha256("x").slice(0, 8) });\n`,
    );
    const qbc = join(dir, "bc.qbc");
    run(qjs, ["-c", src, qbc]);
    assert.notEqual(
      readFileSync(qbc, "latin1").slice(0, 20),
      readFileSync(src, "latin1").slice(0, 20),
      "bytecode, not a copy of the source",
    );
    const fromSource = run(qjs, [src, "p"]).stdout;
    assert.equal(fromSource, `{"fib":6765,"args":["p"],"hash":"2d711642"}\n`);
    assert.equal(run(qjs, [qbc, "p"]).stdout, fromSource);
    const broken = join(dir, "broken.js");
    writeFileSync(broken, "export const = 1;\n");
    const r = run(qjs, ["-c", broken, join(dir, "broken.qbc")], { allowFail: true });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /SyntaxError/);
    const thrower = join(dir, "thrower.js");
    writeFileSync(thrower, "throw new Error('from bytecode');\n");
    run(qjs, ["-c", thrower, join(dir, "thrower.qbc")]);
    const t = run(qjs, [join(dir, "thrower.qbc")], { allowFail: true });
    assert.equal(t.status, 1);
    assert.match(t.stderr, /from bytecode/);
  });

  it("throws errors that name the call and the path, with errno and code", () => {
    const d = join(dir, "errors");
    mkdirSync(d);
    const [o] = outputs(
      script(
        `const D = scriptArgs[1];
         out({
           lstat: err(() => sys.lstat(D + "/missing")),
           link: err(() => sys.link(D + "/missing", D + "/other")),
           fsync: err(() => sys.fsync(9999)),
           chdir: err(() => sys.chdir(D + "/missing")),
           badBytes: err(() => sys.sha256(42)),
         });`,
        [d],
      ).r,
    );
    assert.deepEqual(o!.lstat, {
      message: `lstat(${d}/missing): No such file or directory`,
      code: "ENOENT",
      errno: 2,
      syscall: "lstat",
      path: `${d}/missing`,
    });
    assert.equal((o!.link as { message: string }).message, `link(${d}/missing, ${d}/other): No such file or directory`);
    assert.deepEqual(o!.fsync, {
      message: "fsync(fd 9999): Bad file descriptor",
      code: "EBADF",
      errno: 9,
      syscall: "fsync",
      path: "fd 9999",
    });
    assert.equal((o!.chdir as { code: string }).code, "ENOENT");
    assert.match((o!.badBytes as { message: string }).message, /expected an ArrayBuffer/);
  });

  it("link, chmod, chown, lchown, fchown, fchmod, ftruncate, fsync, utimensat to the nanosecond, mknod and lstat agree with Node", () => {
    const d = join(dir, "files");
    mkdirSync(d);
    const [o] = outputs(
      script(
        `const D = scriptArgs[1];
         write(D + "/f", "hello");
         sys.link(D + "/f", D + "/f2");
         const linkAgain = err(() => sys.link(D + "/f", D + "/f2"));
         sys.chmod(D + "/f", 0o640);
         sys.chown(D + "/f", 1234, 5678);
         os.symlink("f", D + "/sl");
         sys.lchown(D + "/sl", 4321, 8765);
         write(D + "/g", "g");
         const fd = sys.open(D + "/g", sys.O_RDWR | sys.O_CLOEXEC);
         sys.fchown(fd, 42, 43);
         sys.fchmod(fd, 0o600);
         sys.ftruncate(fd, 12345);
         sys.fsync(fd);
         sys.fdatasync(fd);
         sys.close(fd);
         const dfd = sys.open(D, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_CLOEXEC);
         sys.fsync(dfd);
         sys.syncfs(dfd);
         sys.close(dfd);
         const notDir = err(() => sys.open(D + "/g", sys.O_RDONLY | sys.O_DIRECTORY));
         sys.sync();
         sys.utimensat(D + "/f", 1600000000, 123456789, 1500000000, 987654321, false);
         sys.utimensat(D + "/sl", 1400000000, 111, 1300000000, 222, true);
         sys.mknod(D + "/wh", sys.S_IFCHR | 0, 0, 0);
         sys.mknod(D + "/fifo", sys.S_IFIFO | 0o644, 0, 0);
         out({ linkAgain, notDir, f: sys.lstat(D + "/f"), sl: sys.lstat(D + "/sl"), slFollowed: sys.stat(D + "/sl"),
               g: sys.lstat(D + "/g"), wh: sys.lstat(D + "/wh"), fifoType: sys.lstat(D + "/fifo").mode & sys.S_IFMT, S_IFIFO: sys.S_IFIFO });`,
        [d],
      ).r,
    );
    type St = Record<string, number>;
    const f = o!.f as St;
    const node = lstatSync(join(d, "f"), { bigint: true });
    // Every field as Node sees it, the times to the nanosecond.
    assert.deepEqual(
      {
        dev: f.dev,
        ino: f.ino,
        mode: f.mode,
        nlink: f.nlink,
        uid: f.uid,
        gid: f.gid,
        rdev: f.rdev,
        size: f.size,
        blocks: f.blocks,
        blksize: f.blksize,
      },
      {
        dev: Number(node.dev),
        ino: Number(node.ino),
        mode: Number(node.mode),
        nlink: Number(node.nlink),
        uid: Number(node.uid),
        gid: Number(node.gid),
        rdev: Number(node.rdev),
        size: Number(node.size),
        blocks: Number(node.blocks),
        blksize: Number(node.blksize),
      },
    );
    assert.equal(node.mtimeNs, 1500000000987654321n);
    assert.equal(node.atimeNs, 1600000000123456789n);
    assert.deepEqual(
      [f.mtimeSec, f.mtimeNsec, f.atimeSec, f.atimeNsec],
      [1500000000, 987654321, 1600000000, 123456789],
    );
    assert.equal(BigInt(f.ctimeSec!) * 1000000000n + BigInt(f.ctimeNsec!), node.ctimeNs);
    assert.equal(Number(node.mode & 0o7777n), 0o640);
    assert.deepEqual([node.uid, node.gid, node.nlink], [1234n, 5678n, 2n]);
    assert.equal(lstatSync(join(d, "f2")).ino, lstatSync(join(d, "f")).ino);
    assert.equal((o!.linkAgain as { code: string }).code, "EEXIST");
    assert.equal((o!.notDir as { code: string }).code, "ENOTDIR");

    const sl = lstatSync(join(d, "sl"), { bigint: true });
    assert.ok(sl.isSymbolicLink());
    assert.deepEqual([sl.uid, sl.gid], [4321n, 8765n], "lchown changed the link, not its target");
    assert.equal(sl.mtimeNs, 1300000000000000222n, "utimensat with nofollow set the link's own times");
    assert.equal((o!.slFollowed as St).ino, f.ino, "stat follows the link");

    const g = lstatSync(join(d, "g"));
    assert.deepEqual([g.uid, g.gid, g.size, g.mode & 0o7777], [42, 43, 12345, 0o600]);

    const wh = lstatSync(join(d, "wh"));
    assert.ok(wh.isCharacterDevice(), "a whiteout is a character device");
    assert.equal(wh.rdev, 0);
    const w = o!.wh as St;
    assert.deepEqual([w.rdevMajor, w.rdevMinor, w.mode! & 0o170000], [0, 0, 0o020000]);
    assert.ok(lstatSync(join(d, "fifo")).isFIFO());
    assert.equal(o!.fifoType, o!.S_IFIFO);
  });

  it("execve replaces the process: same PID, what was printed before is flushed, nothing after it runs", () => {
    const { r } = script(
      `console.log("before");
       const [self] = os.readlink("/proc/self");
       std.out.puts("pid " + self + "\\n");
       sys.execve("/bin/sh", ["sh", "-c", 'echo "sh pid $$ $0 $1 [$GREETING]"', "zero", "raíz 😀"], { GREETING: "two words", PATH: "/bin:/usr/bin" });
       console.log("after");`,
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split("\n");
    const pid = /^pid (\d+)$/.exec(lines[1]!)?.[1];
    assert.ok(pid, r.stdout);
    assert.deepEqual(lines, ["before", `pid ${pid}`, `sh pid ${pid} zero raíz 😀 [two words]`, ""]);

    const env = script(
      `out(err(() => sys.execve("/nonexistent/prog", ["prog"], [])));
       sys.execve("/usr/bin/env", ["env"], ["A=1", "B=2"]);
       out("after");`,
    ).r;
    assert.equal(env.status, 0, env.stderr);
    const [failed, ...rest] = env.stdout.split("\n");
    assert.deepEqual(JSON.parse(failed!), {
      message: "execve(/nonexistent/prog): No such file or directory",
      code: "ENOENT",
      errno: 2,
      syscall: "execve",
      path: "/nonexistent/prog",
    });
    assert.deepEqual(rest, ["A=1", "B=2", ""], "the environment given, only it, and no 'after'");
  });

  it("spawn: output collected, input given, cwd and env, exit and signal statuses, a missing program, a program that ignores its input", () => {
    const { r } = script(
      `out(sys.spawn(["sh", "-c", "echo out; echo err >&2; cat; exit 3"], { input: "in put ü" }));
       out(sys.spawn(["pwd"], { cwd: "/etc", env: { PATH: "/bin:/usr/bin" } }));
       out(sys.spawn(["sh", "-c", "echo \\"$A\\""], { env: ["A=one", "PATH=/bin:/usr/bin"] }));
       out(sys.spawn(["sh", "-c", "kill -9 $$"]));
       out(sys.spawn(["sh", "-c", "head -c 300000 /dev/zero | tr '\\\\0' a"]).stdout.length);
       out(sys.spawn(["true"], { input: "x".repeat(1 << 20) }));
       out(err(() => sys.spawn(["/nonexistent/prog"])));
       out([sys.getpid() === Number(os.readlink("/proc/self")[0]), sys.startedAt() > 0, sys.uptime() >= sys.startedAt()]);`,
    );
    const o = outputs(r);
    assert.deepEqual(o[0], { status: 3, stdout: "out\nin put ü", stderr: "err\n" });
    assert.deepEqual(o[1], { status: 0, stdout: "/etc\n", stderr: "" });
    assert.deepEqual(o[2], { status: 0, stdout: "one\n", stderr: "" });
    assert.deepEqual(o[3], { status: 137, stdout: "", stderr: "" }, "128 + SIGKILL");
    assert.equal(o[4], 300000, "more than a pipe holds, read while the program writes");
    assert.deepEqual(o[5], { status: 0, stdout: "", stderr: "" }, "EPIPE on its input does not kill the caller");
    assert.deepEqual(o[6], {
      message: "spawn(/nonexistent/prog): No such file or directory",
      code: "ENOENT",
      errno: 2,
      syscall: "spawn",
      path: "/nonexistent/prog",
    });
    assert.deepEqual(o[7], [true, true, true]);
  });

  it("chroot and chdir", () => {
    const root = join(dir, "newroot");
    mkdirSync(join(root, "sub"), { recursive: true });
    writeFileSync(join(root, "marker"), "inside the new root");
    const [o] = outputs(
      script(
        `sys.chroot(scriptArgs[1]);
         sys.chdir("/sub");
         out({ marker: std.loadFile("/marker"), cwd: os.getcwd()[0], outsideGone: os.stat(scriptArgs[1])[1] !== 0 });`,
        [root],
      ).r,
    );
    assert.deepEqual(o, { marker: "inside the new root", cwd: "/sub", outsideGone: true });
  });

  it("utf8Decode and utf8Encode match TextDecoder and TextEncoder, ill-formed input included", () => {
    const byteSamples = [
      [0x72, 0x61, 0xc3, 0xad, 0x7a], // raíz
      [0xf0, 0x9f, 0x98, 0x80], // 😀
      [0xff, 0x41],
      [0xed, 0xa0, 0x80], // a surrogate
      [0xc0, 0xaf], // overlong /
      [0xe0, 0x80, 0x80],
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xe2, 0x82], // cut at the end
      [0xf0, 0x9f, 0x98, 0x41], // cut, then A
      [0x80, 0x61, 0xe2, 0x82, 0xac], // stray continuation, a, €
      [],
    ];
    const strings = ["raíz", "😀", "raíz 😀 ok", "\ud800x", "x\udc00", "", "a\u0000b"];
    const toCodes = (s: string): number[] => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));
    const [o] = outputs(
      script(
        `const bytes = JSON.parse(scriptArgs[1]);
         const strs = JSON.parse(scriptArgs[2]).map((c) => String.fromCharCode(...c));
         const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
         out({
           decoded: bytes.map((b) => codes(sys.utf8Decode(new Uint8Array(b).buffer))),
           encoded: strs.map((s) => hex(sys.utf8Encode(s))),
           roundTrip: sys.utf8Decode(sys.utf8Encode("raíz 😀")) === "raíz 😀",
           view: sys.utf8Decode(new Uint8Array([0x41, 0x72, 0xc3, 0xad, 0x42]).subarray(1, 4)),
         });`,
        [JSON.stringify(byteSamples), JSON.stringify(strings.map(toCodes))],
      ).r,
    );
    const dec = new TextDecoder();
    assert.deepEqual(
      o!.decoded,
      byteSamples.map((b) => toCodes(dec.decode(new Uint8Array(b)))),
    );
    assert.deepEqual(
      o!.encoded,
      strings.map((s) => Buffer.from(new TextEncoder().encode(s)).toString("hex")),
    );
    assert.equal(o!.roundTrip, true);
    assert.equal(o!.view, "rí");
  });

  it("aliasMatch and aliasBuses give what the module index's own patterns give (fnmatch, as modprobe)", () => {
    const text = [
      "# Aliases extracted from modules themselves.",
      "alias pci:v00008086d00007010sv*sd*bc*sc*i* ata_piix",
      "alias pci:v*d*sv*sd*bc01sc06i01* ahci",
      "alias pci:v00001AF4d00001001sv*sd*bc*sc*i* virtio_pci",
      "alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci",
      "alias usb:v*p*d*dc*dsc*dp*ic08isc06ip50in* usb_storage",
      "alias virtio:d00000002v* virtio_blk",
      "alias of:N*T*Cbrcm,bcm2835-sdhci sdhci_iproc",
      "alias of:N*T*Cbrcm,bcm2835-sdhciC* sdhci_iproc",
      "alias cpu:type:x86,ven*fam*mod*:feature:*0094* crc32c-intel",
      "alias fs-ext4 ext4",
      "alias *:foo* weird",
      "alias acpi*:PNP0A03:* pci_root",
      "alias dmi*:svnLENOVO:pvrThinkPad[ ]X20?:* thinkpad_x",
      "alias scsi:t-0x0[0-7]* sd_mod",
      "alias hid:b0003g*v0000046Dp0000C52B mouse",
      "",
      "alias  broken",
      "alias pci:v0000DEADd*sv*sd*bc*sc*i*   spaced  ",
    ].join("\n");
    const patterns = [...text.matchAll(/^alias (\S+) \S/gm)].map((m) => m[1]!);
    const fromPattern = (p: string): string =>
      p
        .replace(/\[!?([^\]])[^\]]*\]/g, (all, c: string) => (all.startsWith("[!") ? "Z" : c))
        .replace(/\*/g, "")
        .replace(/\?/g, "Q");
    const aliases = [
      ...patterns.map(fromPattern),
      "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80",
      "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00",
      "pci:v00001022d00007901sv*sd*bc01sc06i01",
      "virtio:d00000002v00001AF4",
      "usb:v0781p5567d0100dc00dsc00dp00ic08isc06ip50in00",
      "of:NmmcT(null)Cbrcm,bcm2835-sdhci",
      "dmi:bvnLENOVO:svnLENOVO:pvrThinkPad X201:",
      "x:foobar",
      "nothing:here",
      "",
    ];
    const modules = [...new Set([...text.matchAll(/^alias \S+ +(\S+)/gm)].map((m) => moduleName(m[1]!)))];
    const dep = modules.map((m) => `kernel/${m}.ko:`).join("\n");
    const index = parseModuleIndex(dep, text);
    const want = aliases.map((a) => resolveModule(index, a).sort());
    const [o] = outputs(
      script(
        `const [text, aliases] = JSON.parse(scriptArgs[1]);
         out({ matched: aliases.map((a) => sys.aliasMatch(text, a)), buses: sys.aliasBuses(text) });`,
        [JSON.stringify([text, aliases])],
      ).r,
    );
    const native = parseModuleIndex(dep, text, {
      buses: () => o!.buses as string[],
      match: (_t, a) => (o!.matched as string[][])[aliases.indexOf(a)]!,
    });
    assert.deepEqual(
      aliases.map((a) => resolveModule(native, a).sort()),
      want,
    );
    assert.ok(want.filter((w) => w.length > 0).length >= 15, `most aliases match something: ${JSON.stringify(want)}`);
    assert.deepEqual(o!.buses, ["pci", "usb", "virtio", "of", "cpu", "*", "scsi", "hid"]);
    assert.deepEqual([...native.buses].sort(), [...index.buses].sort());
  });

  it("sha256 matches Node's crypto for strings, buffers, views and every padding length", () => {
    const [o] = outputs(
      script(
        `const big = new Uint8Array(1 << 20).map((_, i) => (i * 31 + 7) & 255);
         const lens = [];
         for (let n = 0; n <= 130; n++) lens.push(sys.sha256(big.buffer.slice(0, n)));
         out({ strings: ["", "abc", "raíz 😀"].map((s) => sys.sha256(s)), lens, big: sys.sha256(big), view: sys.sha256(big.subarray(1000, 5000)) });`,
      ).r,
    );
    const h = (d: string | Buffer): string => createHash("sha256").update(d).digest("hex");
    const big = Buffer.alloc(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 255;
    assert.deepEqual(o!.strings, ["", "abc", "raíz 😀"].map(h));
    assert.deepEqual(
      o!.lens,
      Array.from({ length: 131 }, (_, n) => h(big.subarray(0, n))),
    );
    assert.equal(o!.big, h(big));
    assert.equal(o!.view, h(big.subarray(1000, 5000)));
  });

  /** Collects a child's output until it matches. */
  function waitFor(get: () => string, re: RegExp, ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const tick = (): void => {
        if (re.test(get())) return resolve();
        if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${re} in: ${JSON.stringify(get())}`));
        setTimeout(tick, 20);
      };
      tick();
    });
  }

  it("readLine on a pipe: null when the time runs out, then the line, nothing past it consumed, null at the end", async () => {
    const file = join(dir, "readline-pipe.js");
    writeFileSync(
      file,
      PRELUDE +
        `const t0 = Date.now();
         const r1 = sys.readLine(0, 300, true);
         out({ r1, dt: Date.now() - t0 });
         const r2 = sys.readLine(0, 20000);
         const r3 = sys.readLine(0, 20000);
         const r4 = sys.readLine(0, 20000);
         out({ r2: codes(r2), r3, r4 });`,
    );
    const child = start(qjs, [file]);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await waitFor(() => stdout, /"dt"/, 10_000);
    child.stdin!.write("raíz 😀\r\nrest");
    child.stdin!.end();
    assert.equal(await exited, 0, stderr);
    const [first, second] = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(first!.r1, null);
    assert.ok((first!.dt as number) >= 290 && (first!.dt as number) < 5000, `waited ${String(first!.dt)} ms`);
    const codes = (s: string): number[] => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));
    assert.deepEqual(second, { r2: codes("raíz 😀"), r3: "rest", r4: null });
  });

  it(
    "readLine on a terminal: no echo when asked (the Enter still echoed), echo again after",
    { skip: !have("script") && "util-linux script is not installed" },
    async () => {
      const file = join(dir, "readline-tty.js");
      writeFileSync(
        file,
        PRELUDE +
          `out("ready");
         const a = sys.readLine(0, 20000, false);
         out({ a });
         const b = sys.readLine(0, 20000, true);
         out({ b });`,
      );
      // script(1) gives the runtime a pseudo-terminal whose input is our pipe.
      const child = start("script", ["-q", "-e", "-c", `${qjs} ${file}`, "/dev/null"]);
      let output = "";
      child.stdout!.on("data", (d: Buffer) => (output += d.toString("utf8")));
      child.stderr!.on("data", (d: Buffer) => (output += d.toString("utf8")));
      const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      await waitFor(() => output, /"ready"/, 10_000);
      await new Promise((r) => setTimeout(r, 400)); // readLine has turned echo off by now
      child.stdin!.write("s3cret\n");
      await waitFor(() => output, /\{"a":"s3cret"\}/, 10_000);
      await new Promise((r) => setTimeout(r, 200));
      child.stdin!.write("visible\n");
      await waitFor(() => output, /\{"b":"visible"\}/, 10_000);
      child.stdin!.end();
      assert.equal(await exited, 0, output);
      assert.equal(
        output.split("s3cret").length - 1,
        1,
        `the password appears only in the script's own output: ${JSON.stringify(output)}`,
      );
      assert.equal(output.split("visible").length - 1, 2, `the second line was echoed: ${JSON.stringify(output)}`);
      assert.match(output, /"ready"\r?\n\r?\n\{"a"/, "ECHONL: the Enter of the hidden line still moves to a new line");
    },
  );

  describe("mounts, loop devices and xattrs, in a private mount namespace", { skip: !isRoot && "needs root" }, () => {
    it("tmpfs, bind, read-only remount, move, umount; statfs agrees with stat -f", () => {
      const d = join(dir, "mnt");
      mkdirSync(d);
      const [o] = outputs(
        script(
          `const D = scriptArgs[1];
           sys.mount(null, "/", null, sys.MS_REC | sys.MS_PRIVATE, null);
           for (const x of ["a", "b", "c"]) os.mkdir(D + "/" + x);
           sys.mount("tmpfs", D + "/a", "tmpfs", sys.MS_NOSUID | sys.MS_NODEV, "size=4m,mode=0755");
           write(D + "/a/file", "in tmpfs");
           const statfs = sys.statfs(D + "/a");
           const statF = sh("stat -f -c '%t %S %s %b %f %a %c %d' " + D + "/a");
           sys.mount(D + "/a", D + "/b", null, sys.MS_BIND, null);
           const viaBind = std.loadFile(D + "/b/file");
           const sameIno = sys.lstat(D + "/a/file").ino === sys.lstat(D + "/b/file").ino;
           sys.mount(null, D + "/b", null, sys.MS_REMOUNT | sys.MS_BIND | sys.MS_RDONLY, null);
           const roWrite = err(() => sys.open(D + "/b/new", sys.O_WRONLY | sys.O_CREAT, 0o644));
           sys.close(sys.open(D + "/a/new", sys.O_WRONLY | sys.O_CREAT | sys.O_CLOEXEC, 0o644));
           const roFlag = sys.statfs(D + "/b").flags & 1;
           sys.mount(D + "/a", D + "/c", null, sys.MS_MOVE, null);
           const moved = { atC: std.loadFile(D + "/c/file"), newAtC: os.stat(D + "/c/new")[1] === 0, atA: os.stat(D + "/a/file")[1] };
           const info = readAll("/proc/self/mountinfo").split("\\n");
           const line = (p) => info.find((l) => l.split(" ")[4] === p) || null;
           const before = { a: line(D + "/a"), b: line(D + "/b"), c: line(D + "/c") };
           sys.umount2(D + "/b", 0);
           sys.umount2(D + "/c", sys.MNT_DETACH);
           const info2 = readAll("/proc/self/mountinfo").split("\\n");
           const after = info2.filter((l) => (l.split(" ")[4] || "").startsWith(D + "/")).length;
           out({ statfs, statF, viaBind, sameIno, roWrite, roFlag, moved, before, after,
                 notMounted: err(() => sys.umount2(D + "/c", 0)),
                 noSuchFs: err(() => sys.mount("none", D + "/c", "ramstack-nofs", 0, null)) });`,
          [d],
          privateNs,
        ).r,
      );
      const s = o!.statfs as Record<string, number>;
      assert.equal(s.type, 0x01021994, "TMPFS_MAGIC");
      assert.equal(s.blocks! * s.frsize!, 4 << 20, "size=4m");
      const [type, frsize, bsize, blocks, bfree, bavail, files, ffree] = (o!.statF as string).split(" ");
      assert.deepEqual(
        [s.type.toString(16), s.frsize, s.bsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree].map(String),
        [type, frsize, bsize, blocks, bfree, bavail, files, ffree],
      );
      assert.equal(o!.viaBind, "in tmpfs");
      assert.equal(o!.sameIno, true);
      assert.equal((o!.roWrite as { code: string }).code, "EROFS");
      assert.equal(o!.roFlag, 1, "ST_RDONLY on the read-only bind");
      assert.deepEqual(o!.moved, { atC: "in tmpfs", newAtC: true, atA: 2 });
      const before = o!.before as Record<string, string | null>;
      assert.equal(before.a, null, "moved away from a");
      assert.match(before.b!, / ro[, ]/);
      assert.match(before.c!, / - tmpfs tmpfs /);
      assert.equal(o!.after, 0, "both unmounted");
      assert.equal((o!.notMounted as { code: string }).code, "EINVAL");
      assert.deepEqual(o!.noSuchFs, {
        message: `mount(none, ${d}/c, ramstack-nofs): No such device`,
        code: "ENODEV",
        errno: 19,
        syscall: "mount",
        path: "none",
      });
    });

    it(
      "loop devices: ext4 read-write, squashfs read-only with autoclear; xattrs, fallocate, syncfs on ext4",
      { skip: !(have("mkfs.ext4") && have("mksquashfs")) && "needs e2fsprogs and squashfs-tools" },
      () => {
        const d = join(dir, "loop");
        const seed = join(d, "seed");
        mkdirSync(seed, { recursive: true });
        writeFileSync(join(seed, "hello.txt"), "seeded\n");
        const ext4 = join(d, "fs.ext4");
        const sq = join(d, "fs.sqfs");
        run("truncate", ["-s", "16M", ext4]);
        run("mkfs.ext4", ["-q", "-F", "-d", seed, ext4]);
        run("mksquashfs", [seed, sq, "-quiet", "-noappend"]);
        const [o] = outputs(
          script(
            `const [, D, EXT4, SQ] = scriptArgs;
           sys.mount(null, "/", null, sys.MS_REC | sys.MS_PRIVATE, null);
           const waitGone = (p) => { for (let i = 0; i < 100; i++) { if (sys.loopStatus(p) === null) return true; os.sleep(20); } return false; };
           const rw = sys.loopAttach(EXT4, {});
           const rwStatus = sys.loopStatus(rw.path);
           const rwSysRo = sh("cat /sys/block/loop" + rw.number + "/ro");
           const rwBacking = sh("cat /sys/block/loop" + rw.number + "/loop/backing_file");
           sys.close(rw.fd);
           os.mkdir(D + "/e");
           sys.mount(rw.path, D + "/e", "ext4", 0, null);
           const seeded = std.loadFile(D + "/e/hello.txt");
           write(D + "/e/written.txt", "written through the loop");
           const f = D + "/e/hello.txt";
           sys.lsetxattr(f, "user.comment", "raíz");
           sys.lsetxattr(f, "user.bin", new Uint8Array([0, 255, 1, 2]).buffer);
           sys.lsetxattr(f, "trusted.overlay.opaque", "y");
           os.mkdir(D + "/e/dir");
           sys.lsetxattr(D + "/e/dir", "trusted.overlay.opaque", new Uint8Array([0x79]));
           os.symlink("hello.txt", D + "/e/link");
           sys.lsetxattr(D + "/e/link", "trusted.overlay.origin", new Uint8Array([1, 2, 3]));
           const xattrs = {
             comment: sys.lgetxattr(f, "user.comment", true),
             bin: Array.from(new Uint8Array(sys.lgetxattr(f, "user.bin"))),
             opaque: sys.lgetxattr(D + "/e/dir", "trusted.overlay.opaque", true),
             list: sys.llistxattr(f).sort(),
             linkList: sys.llistxattr(D + "/e/link"),
             targetOrigin: sys.lgetxattr(f, "trusted.overlay.origin"),
             missing: sys.lgetxattr(f, "user.none"),
             getfattr: sh("getfattr --absolute-names -n user.bin -e hex " + f),
             createExisting: err(() => sys.lsetxattr(f, "user.comment", "x", sys.XATTR_CREATE)),
           };
           sys.lremovexattr(f, "user.comment");
           xattrs.removed = sys.lgetxattr(f, "user.comment");
           xattrs.removeAgain = err(() => sys.lremovexattr(f, "user.comment"));
           const fd = sys.open(D + "/e/big", sys.O_RDWR | sys.O_CREAT | sys.O_CLOEXEC, 0o600);
           sys.fallocate(fd, 0, 0, 1 << 20);
           const alloc1 = sys.lstat(D + "/e/big");
           sys.fallocate(fd, sys.FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20);
           const alloc2 = sys.lstat(D + "/e/big");
           sys.ftruncate(fd, 4096);
           const truncated = sys.lstat(D + "/e/big").size;
           sys.fsync(fd);
           sys.syncfs(fd);
           sys.close(fd);
           const ext4Statfs = sys.statfs(D + "/e");
           sys.umount2(D + "/e", 0);
           sys.loopDetach(rw.path);
           const rwGone = waitGone(rw.path);

           const ro = sys.loopAttach(SQ, { readOnly: true, autoclear: true });
           const roStatus = sys.loopStatus(ro.path);
           const roSysRo = sh("cat /sys/block/loop" + ro.number + "/ro");
           os.mkdir(D + "/s");
           sys.mount(ro.path, D + "/s", "squashfs", sys.MS_RDONLY, null);
           sys.close(ro.fd);
           const roBoundWhileMounted = sys.loopStatus(ro.path) !== null;
           const sqRead = std.loadFile(D + "/s/hello.txt");
           const sqWrite = err(() => sys.open(D + "/s/x", sys.O_WRONLY | sys.O_CREAT, 0o644));
           sys.umount2(D + "/s", 0);
           const roGone = waitGone(ro.path);

           const again = sys.loopAttach(EXT4, { readOnly: true, autoclear: true });
           sys.mount(again.path, D + "/e", "ext4", sys.MS_RDONLY, null);
           sys.close(again.fd);
           const persisted = { written: std.loadFile(D + "/e/written.txt"), bin: Array.from(new Uint8Array(sys.lgetxattr(D + "/e/hello.txt", "user.bin"))) };
           sys.umount2(D + "/e", 0);
           const againGone = waitGone(again.path);
           out({ rw: { path: rw.path, status: rwStatus, sysRo: rwSysRo, backing: rwBacking }, seeded, xattrs,
                 alloc1: [alloc1.size, alloc1.blocks], alloc2: [alloc2.size, alloc2.blocks], truncated, ext4Type: ext4Statfs.type, rwGone,
                 ro: { status: roStatus, sysRo: roSysRo, boundWhileMounted: roBoundWhileMounted, read: sqRead, write: sqWrite, gone: roGone },
                 persisted, againGone, missingFile: err(() => sys.loopAttach(D + "/nope", {})) });`,
            [d, ext4, sq],
            privateNs,
          ).r,
        );
        const rw = o!.rw as { path: string; status: Record<string, unknown>; sysRo: string; backing: string };
        assert.match(rw.path, /^\/dev\/loop\d+$/);
        assert.deepEqual(rw.status, {
          number: Number(rw.path.slice(9)),
          fileName: ext4,
          offset: 0,
          sizeLimit: 0,
          readOnly: false,
          autoclear: false,
          partScan: false,
        });
        assert.equal(rw.sysRo, "0");
        assert.equal(rw.backing, ext4);
        assert.equal(o!.seeded, "seeded\n");
        const x = o!.xattrs as Record<string, unknown>;
        assert.equal(x.comment, "raíz");
        assert.deepEqual(x.bin, [0, 255, 1, 2]);
        assert.equal(x.opaque, "y");
        assert.deepEqual(x.list, ["trusted.overlay.opaque", "user.bin", "user.comment"]);
        assert.deepEqual(x.linkList, ["trusted.overlay.origin"], "the link's own attribute, not its target's");
        assert.equal(x.targetOrigin, null);
        assert.equal(x.missing, null);
        assert.match(x.getfattr as string, /user\.bin=0x00ff0102/);
        assert.equal((x.createExisting as { code: string }).code, "EEXIST");
        assert.equal(x.removed, null);
        assert.equal((x.removeAgain as { code: string }).code, "ENODATA");
        const [size1, blocks1] = o!.alloc1 as number[];
        const [size2, blocks2] = o!.alloc2 as number[];
        assert.equal(size1, 1 << 20);
        assert.ok(blocks1! * 512 >= 1 << 20, `fallocate reserved ${blocks1! * 512} bytes`);
        assert.equal(size2, 1 << 20, "KEEP_SIZE kept the size");
        assert.ok(blocks2! * 512 >= 2 << 20, "and reserved beyond it");
        assert.equal(o!.truncated, 4096);
        assert.equal(o!.ext4Type, 0xef53);
        assert.equal(o!.rwGone, true, "loopDetach detached");
        const ro = o!.ro as Record<string, unknown>;
        assert.deepEqual(
          [
            (ro.status as Record<string, unknown>).readOnly,
            (ro.status as Record<string, unknown>).autoclear,
            ro.sysRo,
            ro.boundWhileMounted,
            ro.read,
          ],
          [true, true, "1", true, "seeded\n"],
        );
        assert.equal((ro.write as { code: string }).code, "EROFS");
        assert.equal(ro.gone, true, "autoclear detached after the umount and the close");
        assert.deepEqual(o!.persisted, { written: "written through the loop", bin: [0, 255, 1, 2] });
        assert.equal(o!.againGone, true);
        assert.equal((o!.missingFile as { code: string; path: string }).code, "ENOENT");
        assert.equal((o!.missingFile as { path: string }).path, `${d}/nope`);
        // And the image really holds the write: read back by e2fsprogs, outside the runtime.
        assert.equal(run("debugfs", ["-R", "cat /written.txt", ext4]).stdout, "written through the loop");
      },
    );

    it(
      "reboot: in a PID namespace the kernel ends the namespace's init with the signal for the command",
      { skip: !have("unshare") && "needs unshare" },
      () => {
        // reboot(2) from PID 1 of a child PID namespace kills that init (SIGINT
        // for power-off, SIGHUP for restart) instead of the machine. The script
        // refuses unless it is PID 1 of a fresh /proc, so it cannot reach the host.
        for (const [cmd, signal] of [
          ["RB_POWER_OFF", "SIGINT"],
          ["RB_AUTOBOOT", "SIGHUP"],
        ] as const) {
          const file = join(dir, `reboot-${cmd}.js`);
          writeFileSync(
            file,
            PRELUDE +
              `if (os.readlink("/proc/self")[0] !== "1") { out("not pid 1"); std.exit(3); }\nsys.sync();\nsys.reboot(sys.${cmd});\nout("still here");\n`,
          );
          const r = spawnSync("unshare", ["-p", "-f", "--mount-proc", qjs, file], { encoding: "utf8" });
          assert.equal(r.signal, signal, `${cmd}: status ${r.status}, signal ${r.signal}: ${r.stdout}${r.stderr}`);
          assert.doesNotMatch(r.stdout, /still here/);
        }
      },
    );
  });

  describe("build inputs", () => {
    it("the cache key changes with the native source, the arch, the libc and the compiler", () => {
      const base = {
        arch: "x86_64",
        libc: "musl",
        compiler: "gcc 12",
        libcDigest: "a",
        native: { "ramstack_sys.c": "int x;", "ramstack_main.c": "int main;" },
      } as const;
      const k = quickjsBuildKey(base);
      assert.equal(
        quickjsBuildKey({ ...base, native: { "ramstack_main.c": "int main;", "ramstack_sys.c": "int x;" } }),
        k,
        "order does not matter",
      );
      for (const other of [
        { ...base, native: { ...base.native, "ramstack_sys.c": "int y;" } },
        { ...base, arch: "arm64" as const },
        { ...base, libc: "glibc" as const },
        { ...base, compiler: "gcc 13" },
        { ...base, libcDigest: "b" },
      ]) {
        assert.notEqual(quickjsBuildKey(other), k);
      }
    });

    it("refuses QuickJS sources that differ from the pinned checksums, naming the file", () => {
      const { dir: pkg } = fetchNpm(QUICKJS_NPM, log);
      const copy = join(dir, "tampered");
      cpSync(join(pkg, "pkg", "deps", "quickjs_2021_03_27"), copy, { recursive: true });
      verifyQuickjsSources(copy);
      const c = join(copy, "cutils.c");
      writeFileSync(c, readFileSync(c, "utf8").replace("Copyright", "Copyleft"));
      assert.throws(() => verifyQuickjsSources(copy), /cutils\.c: SHA-256 [0-9a-f]{64}, expected 82a2cf31/);
    });
  });

  describe("arm64 cross-build", () => {
    const missing = quickjsMissingPackages("arm64");
    it(
      "is a static aarch64 executable",
      { skip: missing.length > 0 && `the cross toolchain is missing: ${missing.join(" ")}` },
      () => {
        const bin = buildQuickjs("arm64", log);
        const elf = readElf(bin);
        assert.deepEqual(elf, { class: 64, machine: "arm64", type: "exec", interpreter: false });
        if (have("file")) assert.match(run("file", ["-b", bin]).stdout, /ARM aarch64.*statically linked.*stripped/);
        for (const q of ["qemu-aarch64-static", "qemu-aarch64"]) {
          if (!have(q)) continue;
          const r = run(q, [
            bin,
            "-e",
            `import * as sys from "ramstack:sys"; console.log(sys.sha256("abc"), sys.O_DIRECTORY)`,
          ]);
          assert.equal(
            r.stdout,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 16384\n",
            "arm64's own O_DIRECTORY",
          );
          break;
        }
      },
    );
  });
});
