// The baseline servers for bench/http.ts, run as their own process: a bare Hono server that
// does `c.req.json()` + `Queue.add` with a `jobId` (POST /v1/jobs), and `JSON.parse` +
// `Queue.addBulk` (POST /v1/jobs/bulk); no auth, validation, encryption or index.
// Arguments: the Redis URL, the port, the queue prefix.
import { serve } from "@hono/node-server";
import { Queue } from "bullmq";
import { Hono } from "hono";
import { Redis } from "ioredis";

const [redisUrl, port, prefix] = process.argv.slice(2);

const connection = new Redis(redisUrl ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
const queue = new Queue("bridgeport", { connection, prefix: prefix ?? "bench-bare" });
let counter = 0;

const app = new Hono();
app.get("/healthz", (c) => c.text("ok"));
app.post("/v1/jobs", async (c) => {
  const body = await c.req.json<{ input: { name: string } }>();
  const job = await queue.add("create-database", body, { jobId: `bare-${process.pid}-${counter++}` });
  return c.json({ id: job.id, status: "queued" }, 202);
});
app.post("/v1/jobs/bulk", async (c) => {
  const { jobs } = JSON.parse(await c.req.text()) as { jobs: unknown[] };
  const added = await queue.addBulk(jobs.map((data) => ({ name: "create-database", data })));
  return c.json({ accepted: added.length }, 202);
});

serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(port) });
process.on("SIGTERM", () => process.exit(0));
