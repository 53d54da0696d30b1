// `npm run bench`, crash safety: many power cuts during a flash-mode save in
// QEMU (BENCH_POWERCUT_ROUNDS, default 20), each at a random moment within the
// save's measured duration; every reboot must find the old session or the
// new one, whole. Prints how often each was found.

import { setDefaultPort } from "../src/port/default.js";
import { NodePort } from "../src/port/node.js";
import { powerCutRound } from "../test/helpers/powercut.js";

// The host side of the bench (its fixtures) works through Node.js's port.
setDefaultPort(new NodePort());

const build = process.argv[2] ?? "out/tiny";
const rounds = Number(process.env.BENCH_POWERCUT_ROUNDS ?? 20);
const calibration = await powerCutRound(build, Infinity);
const span = calibration.saveMs * 1.1;
const outcomes = { old: 0, new: 0, finishedBeforeCut: 0 };
let failed = 0;
for (let i = 0; i < rounds; i++) {
  const delay = Math.round(Math.random() * span);
  try {
    const r = await powerCutRound(build, delay);
    outcomes[r.outcome]++;
    if (r.finished) outcomes.finishedBeforeCut++;
    process.stderr.write(
      `powercut ${i + 1}/${rounds}: cut at ${delay} ms: ${r.outcome}${r.finished ? " (save had finished)" : ""}\n`,
    );
  } catch (e) {
    failed++;
    process.stderr.write(`powercut ${i + 1}/${rounds}: cut at ${delay} ms: ${(e as Error).message}\n`);
  }
}
const result = { rounds, saveSeconds: calibration.saveMs / 1000, outcomes, failed };
if (process.argv.includes("--json")) console.log(JSON.stringify(result, null, 2));
else {
  console.log(
    `Power cuts during a save (${rounds} rounds; the save takes ${(calibration.saveMs / 1000).toFixed(1)} s in the guest):`,
  );
  console.log(
    `  old session found ${outcomes.old}, new session found ${outcomes.new} (the save had finished in ${outcomes.finishedBeforeCut}), mixed or failed ${failed}`,
  );
}
process.exitCode = failed ? 1 : 0;
