import { expect, it } from "vitest";
import {
  finishedCountCall,
  finishedCountsKeyOf,
  legacyFinishedCountsKey,
  readFinishedCounts,
} from "./finished-counts.ts";
import { sendTogether } from "./redis.ts";
import { openTestQueues } from "./test-support.ts";

it("reads each account queue's counts, plus what the deployment-wide hash of earlier versions kept", async () => {
  const { connection, queues, close } = await openTestQueues();
  try {
    const queue = queues.queueOf("postgres", "default");
    await sendTogether(connection, [
      finishedCountCall(queues, queue.name, "created"),
      finishedCountCall(queues, queue.name, "created"),
      finishedCountCall(queues, queue.name, "dead"),
    ]);
    // Written by a version before the per-queue counts: still counted, so no counter goes back on upgrade.
    await connection.hset(
      legacyFinishedCountsKey(queues.config.prefix),
      JSON.stringify(["postgres", "default", "created"]),
      5,
      JSON.stringify(["postgres", "default", "unknown-outcome"]),
      7,
      "not json",
      1,
    );
    await connection.hset(finishedCountsKeyOf(queues, queue.name), "a-future-outcome", 3);

    const counts = await readFinishedCounts(queues);
    expect(counts.sort((a, b) => a.outcome.localeCompare(b.outcome))).toEqual([
      { provider: "postgres", account: "default", outcome: "created", count: 7 },
      { provider: "postgres", account: "default", outcome: "dead", count: 1 },
    ]);
  } finally {
    await close();
  }
});
