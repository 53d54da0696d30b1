// One power cut during a flash-mode save, in QEMU: a session with many new
// files and a changed one, 'ramstack save' started, QEMU killed after a
// random delay (the guest's unwritten cache is lost), then a reboot that must
// find the old session or the new one, whole. Used by the VM test (a few
// rounds) and by `npm run bench` (many).

import { join } from "node:path";
import type { Vm } from "../../src/vm/qemu.js";
import { boot, bootDisk, makeSaveFile, scratch } from "./system.js";

export const POWERCUT_FILES = 300;

export interface PowerCutOutcome {
  outcome: "old" | "new";
  delayMs: number;
  /** The save had finished before the cut. */
  finished: boolean;
  /** How long the save ran before the cut, or took. */
  saveMs: number;
}

export async function powerCutRound(build: string, delayMs: number): Promise<PowerCutOutcome> {
  const dir = scratch("powercut");
  const save = makeSaveFile(
    join(dir, "tinysave.4fs"),
    { "upper/root/state": "old\n", "upper/root/keep": "kept\n" },
    "ext4",
    64,
  );
  const disk = bootDisk({ build, dir, extra: { "tinysave.4fs": save } });
  let vm: Vm | undefined;
  try {
    vm = (await boot(build, [{ file: disk, bus: "usb" }])).vm;
    await vm.check(
      `mkdir -p /root/many && i=0; while [ $i -lt ${POWERCUT_FILES} ]; do echo "file $i" > /root/many/f$i; i=$((i+1)); done; echo new > /root/state; rm /root/keep`,
      120000,
    );
    const from = vm.console.length;
    vm.send("echo SAVE-START; ramstack save; echo SAVE-DONE\n");
    await vm.waitFor(/^SAVE-START\r?$/m, 30000, from);
    const started = Date.now();
    // Infinity: no cut, only the save's duration (to aim the cuts of a bench).
    if (delayMs === Infinity) await vm.waitFor(/^SAVE-DONE\r?$/m, 300000, from);
    else await new Promise((r) => setTimeout(r, delayMs));
    const finished = /^SAVE-DONE\r?$/m.test(vm.console.slice(from));
    await vm.kill();
    const saveMs = Date.now() - started;

    vm = (await boot(build, [{ file: disk, bus: "usb" }])).vm;
    const state = await vm.check("cat /root/state");
    const count = Number(await vm.check("ls /root/many 2>/dev/null | wc -l"));
    const keep = await vm.check("test -e /root/keep && echo kept || echo gone");
    const good = await vm.check(
      `n=0; for f in /root/many/f*; do [ -e "$f" ] || continue; [ "$(cat $f)" = "file \${f##*/f}" ] || n=$((n+1)); done; echo $n`,
    );
    const old = state === "old" && count === 0 && keep === "kept";
    const fresh = state === "new" && count === POWERCUT_FILES && keep === "gone" && good === "0";
    if (!old && !fresh)
      throw new Error(
        `after a power cut ${delayMs} ms into the save, the save is a mix: state=${state}, ${count} of ${POWERCUT_FILES} files, ${good} bad, keep ${keep}\n${vm.tail(40)}`,
      );
    return { outcome: old ? "old" : "new", delayMs, finished, saveMs };
  } finally {
    await vm?.kill();
  }
}
