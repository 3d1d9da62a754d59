import {
  ConfigError,
  createRedisConnection,
  loadConfig,
  openQueues,
  pruneDeadLetters,
  watchRedis,
} from "@provisioner/queue";
import { workerEnvSchema } from "./env.ts";
import { createLogger } from "./logger.ts";
import { portOf, serveMetrics } from "./metrics-server.ts";
import { startWorkers } from "./workers.ts";

const parsedEnv = workerEnvSchema.safeParse(process.env);
if (!parsedEnv.success) {
  console.error(
    `worker: invalid environment: ${parsedEnv.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
  );
  process.exit(1);
}
const env = parsedEnv;
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  console.error(`worker: ${error instanceof ConfigError ? error.message : (error as Error).message}`);
  process.exit(1);
}

const logger = createLogger(env.data.LOG_LEVEL);
const connection = createRedisConnection(config.redis, "worker");
const queues = openQueues(config, connection);

// Workers ride out a Redis restart (their connection retries forever); the log says so once per outage.
watchRedis(connection, { warn: (m) => logger.warn(m), info: (m) => logger.info(m) });

const running = await startWorkers({
  queues,
  connection,
  logger,
  providers: env.data.WORKER_PROVIDERS,
  callbackSigningSecret: env.data.CALLBACK_SIGNING_SECRET,
  tuning: {
    lockDurationMs: env.data.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: env.data.WORKER_STALLED_INTERVAL_MS,
    identityLeaseMs: env.data.WORKER_IDENTITY_LEASE_MS,
    batchReconcileMs: env.data.WORKER_BATCH_RECONCILE_MS,
  },
});
logger.info({ queues: [...running.workers.keys()], pid: process.pid }, "worker ready");
logger.flush();
const metricsPort = env.data.METRICS_PORT;
const metricsServer =
  metricsPort === undefined
    ? undefined
    : await serveMetrics(running.metrics.registry, metricsPort, env.data.METRICS_HOST);
if (metricsServer) logger.info({ port: portOf(metricsServer), host: env.data.METRICS_HOST }, "serving /metrics");
logger.flush();

const prune = setInterval(() => {
  pruneDeadLetters(queues).catch((error: Error) =>
    logger.warn({ err: { message: error.message } }, "dead-letter prune failed"),
  );
}, env.data.DEAD_LETTER_PRUNE_INTERVAL_MS);
prune.unref();

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  const graceMs = env.data.WORKER_SHUTDOWN_GRACE_MS;
  logger.info({ signal, graceMs }, "draining");
  // The drain cancels what runs and hands it back before the grace ends; if something
  // still holds on (a call that ignores its signal, a Redis that does not answer), the
  // process must not outlive the orchestrator's patience, so it goes anyway. Half a second
  // past the grace: the drain itself ends by the grace, and closing connections after it
  // must not be cut short; the promise is an exit within the grace plus one second.
  setTimeout(() => {
    logger.error({ graceMs }, "drain outlasted the grace period; exiting anyway");
    process.exit(1);
  }, graceMs + 500).unref();
  clearInterval(prune);
  metricsServer?.close();
  await running.close(graceMs);
  await queues.close();
  await connection.quit().catch(() => {});
  logger.info("drained");
  process.exit(0);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
