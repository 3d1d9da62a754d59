// The baseline worker for bench/e2e.ts, run as its own process so its memory is measured as
// the product's worker's is: one BullMQ Worker calling the sandbox's BRIDGEPORT create with
// `fetch`; no validation, decryption, identity lock, batch counts or callbacks.
// Arguments: the Redis URL, the queue prefix, the sandbox URL, its BRIDGEPORT token, the concurrency.
import { Worker } from "bullmq";
import { Redis } from "ioredis";

const [redisUrl, prefix, sandboxUrl, token, concurrency] = process.argv.slice(2);
if (!redisUrl || !prefix || !sandboxUrl || !token || !concurrency)
  throw new Error("usage: bare-worker.ts REDIS_URL PREFIX SANDBOX_URL TOKEN CONCURRENCY");

const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const worker = new Worker(
  "bridgeport",
  async (job) => {
    const { envId, ...body } = job.data as { envId: string };
    const response = await fetch(`${sandboxUrl}/bridgeport/api/environments/${envId}/databases`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "idempotency-key": job.id as string,
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`status ${response.status}`);
    return response.json();
  },
  { connection, prefix, concurrency: Number(concurrency) },
);
await worker.waitUntilReady();
console.log("bare worker ready");
process.on("SIGTERM", () => {
  void worker.close().then(() => process.exit(0));
});
