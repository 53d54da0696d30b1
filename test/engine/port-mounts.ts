// The QuickJS port's mounts (mount(2) and loop devices from ramstack:sys,
// no busybox mount) on real filesystems: run by test/host/quickjs-mounts
// .test.ts in a private mount namespace. Argument: DIR, prepared there.
// Prints one JSON object a line: {step, ...what it saw}.

import * as std from "std";
import { QuickJsPort } from "../../src/port/quickjs.js";

const dir = scriptArgs[1]!;
const port = new QuickJsPort();
const out = (o: Record<string, unknown>): void => {
  std.out.puts(`${JSON.stringify(o)}\n`);
  std.out.flush();
};
const mountOf = (target: string): { source: string; fstype: string; options: string } | null =>
  port.mounts().find((m) => m.target === target) ?? null;
const attempt = (f: () => void): string | null => {
  try {
    f();
    return null;
  } catch (e) {
    return (e as Error).message.split(dir).join("DIR");
  }
};

port.mkdir(`${dir}/t`);
port.mount({ fstype: "tmpfs", source: "tmpfs", target: `${dir}/t`, options: ["size=1m", "mode=700", "noatime"] });
out({ step: "tmpfs", mount: mountOf(`${dir}/t`), mode: port.stat(`${dir}/t`)?.mode });

port.mkdir(`${dir}/s`);
port.mount({ fstype: "squashfs", source: `${dir}/image.sfs`, target: `${dir}/s`, options: ["loop", "ro", "noatime"] });
const sfs = mountOf(`${dir}/s`);
out({ step: "squashfs", mount: sfs, file: port.readText(`${dir}/s/hello`) });
out({ step: "umount squashfs", done: port.umount(`${dir}/s`), again: port.umount(`${dir}/s`), loop: sfs?.source });

port.mkdir(`${dir}/e`);
port.mount({ fstype: "ext4", source: `${dir}/ro/save.ext4`, target: `${dir}/e`, options: ["loop", "rw", "noatime"] });
out({ step: "write-protected", mount: mountOf(`${dir}/e`) });
port.umount(`${dir}/e`);

port.mkdir(`${dir}/b`);
port.bind(`${dir}/t`, `${dir}/b`, true);
out({ step: "bind ro", mount: mountOf(`${dir}/b`) });
port.mkdir(`${dir}/m`);
port.move([[`${dir}/b`, `${dir}/m`]]);
out({ step: "move", from: mountOf(`${dir}/b`), to: mountOf(`${dir}/m`) });
out({ step: "lazy umount", done: port.umount(`${dir}/m`, true), left: mountOf(`${dir}/m`) });

port.mkdir(`${dir}/x`);
out({
  step: "not a squashfs",
  error: attempt(() =>
    port.mount({ fstype: "squashfs", source: `${dir}/not.sfs`, target: `${dir}/x`, options: ["loop", "ro"] }),
  ),
  mounted: mountOf(`${dir}/x`),
});
out({
  step: "missing file",
  error: attempt(() =>
    port.mount({ fstype: "squashfs", source: `${dir}/missing.sfs`, target: `${dir}/x`, options: ["loop", "ro"] }),
  ),
});
out({
  step: "bad move",
  error: attempt(() => port.move([[`${dir}/x`, `${dir}/m`]])),
});
