// The API process: read the environment once, connect, listen, and drain on SIGTERM/SIGINT.
import { serve } from "@hono/node-server";
import { ConfigError, createRedisConnection, loadConfig, openQueues, watchRedis } from "@provisioner/queue";
import { createApp } from "./app.ts";
import { staticTokenResolver } from "./auth.ts";
import { createLogger } from "./logger.ts";
import { loadApiSettings, SettingsError } from "./settings.ts";

/** How long shutdown waits for in-flight requests before it exits anyway. */
const shutdownGraceMs = 10_000;

function fail(message: string): never {
  console.error(`api: ${message}`);
  process.exit(1);
}

function load() {
  try {
    return { settings: loadApiSettings(process.env), config: loadConfig(process.env) };
  } catch (error) {
    if (error instanceof SettingsError || error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

const { settings, config } = load();
const logger = createLogger({ level: settings.LOG_LEVEL });
const connection = createRedisConnection(config.redis, "api");
const queues = openQueues(config, connection);

// Requests answer 503 while Redis is down; the log says so once per outage.
watchRedis(connection, { warn: (m) => logger.warn(m), info: (m) => logger.info(m) });

const app = createApp({
  queues,
  tokens: staticTokenResolver(settings.tokens),
  logger,
  bodyLimitBytes: settings.API_BODY_LIMIT_BYTES,
});

const server = serve({ fetch: app.fetch, hostname: settings.HOST, port: settings.PORT }, (info) => {
  const url = `http://${info.family === "IPv6" ? `[${info.address}]` : info.address}:${info.port}`;
  logger.info({ url, docs: `${url}/docs` }, `listening on ${url}`);
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  setTimeout(() => {
    logger.error("requests still open after the grace period; exiting");
    process.exit(1);
  }, shutdownGraceMs).unref();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    if ("closeIdleConnections" in server) server.closeIdleConnections();
  });
  await queues.close();
  if (connection.status === "ready") await connection.quit();
  else connection.disconnect();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
