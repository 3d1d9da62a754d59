// The end-to-end benchmark's table: each figure beside its target (issue 10).
import type { E2eResult } from "./e2e.ts";
import { format } from "./support.ts";

const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
const mb = (n: number) => `${n.toFixed(0).padStart(4)} MB`;

/** Targets: wall time within 1.5× of bare; RSS flat (≤ 1.2× from 25 % to 100 %) and capped; ≤ 2 KB a job in Redis. */
export const e2eTargets = {
  wallRatio: 1.5,
  growth: 1.2,
  capMb: { api: 300, worker: 300, cli: 200 } as Record<string, number>,
  bytesPerJob: 2_048,
};

export function formatE2e(result: E2eResult): string[] {
  const { ours, bare } = result;
  const ratio = ours.seconds / bare.seconds;
  const lines = [
    `end to end: ${format(result.rows)} BRIDGEPORT rows, provisioner bulk -> API -> one worker (concurrency ${result.concurrency}) -> sandbox at zero latency`,
    `  wall time    provisioner ${ours.seconds.toFixed(1)} s (${format(result.rows / ours.seconds)} jobs/s), bare addBulk + Worker + fetch ${bare.seconds.toFixed(1)} s (${format(result.rows / bare.seconds)} jobs/s)`,
    `               every job finished at ${ours.allFinishedSeconds.toFixed(1)} s (provisioner) and ${bare.allFinishedSeconds.toFixed(1)} s (bare)`,
    `               ratio ${ratio.toFixed(2)}x  (target <= ${e2eTargets.wallRatio}x: ${verdict(ratio <= e2eTargets.wallRatio)})`,
    "  resident memory   at 25%    50%    75%   100%   peak  100/25    CPU  targets",
  ];
  const memories = [
    ...Object.entries(ours.memory).map(([name, profile]) => [name, profile] as const),
    ...Object.entries(bare.memory).map(([name, profile]) => [name, profile] as const),
  ];
  for (const [name, profile] of memories) {
    const cap = e2eTargets.capMb[name];
    const targets =
      cap === undefined
        ? "(baseline)"
        : `growth <= ${e2eTargets.growth}x: ${verdict(profile.growth <= e2eTargets.growth)}; peak < ${cap} MB: ${verdict(profile.peak < cap)}`;
    lines.push(
      `    ${name.padEnd(12)} ${profile.at.map(mb).join(" ")} ${mb(profile.peak)}  ${profile.growth.toFixed(2)}x ${profile.cpuSeconds.toFixed(1).padStart(5)} s  ${targets}`,
    );
  }
  const perJob = (side: typeof ours) => side.redis.bytes / side.finished;
  lines.push(
    `  Redis per finished job  provisioner ${format(perJob(ours))} B (${format(ours.redis.keys)} keys, ${format(ours.redis.bytes)} B; used_memory +${format(ours.usedMemoryDelta)} B)  (target <= ${format(e2eTargets.bytesPerJob)} B: ${verdict(perJob(ours) <= e2eTargets.bytesPerJob)})`,
    `                          bare        ${format(perJob(bare))} B (${format(bare.redis.keys)} keys, ${format(bare.redis.bytes)} B; used_memory +${format(bare.usedMemoryDelta)} B)`,
    `  Redis hash-max-listpack-value: ${result.hashListpackValue ?? "unknown"} (1,024 keeps a job's hash compact: README, Redis settings)`,
    ...[ours, bare].flatMap((side, i) => [
      `  Redis bytes per finished job by key, ${i === 0 ? "provisioner" : "bare"}: ${side.redis.shapes
        .filter((entry) => entry.bytes >= side.finished)
        .map(
          (entry) =>
            `${entry.shape} ${format(entry.bytes / side.finished)}${entry.keys > 1 ? ` (${format(entry.keys)} keys)` : ""}`,
        )
        .join(", ")}`,
      `    one job's hash, value lengths: ${side.redis.jobFields.map(({ field, length }) => `${field} ${length}`).join(", ")}`,
    ]),
    `  Redis keys: ${format(result.dbsize.before)} before the run, ${format(result.dbsize.after)} after it (others share this Redis); the run's keys left: ${result.dbsize.left}`,
  );
  return lines;
}
