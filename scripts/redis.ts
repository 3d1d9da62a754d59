// The Redis rule that `npm start` and `npm test` share (SPEC section 2): use REDIS_URL; if
// nothing answers there and `redis-server` is on the PATH, start a private one with
// append-only persistence under .data/ and say so; otherwise stop with one line saying how
// to get Redis.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { redisAnswers } from "@provisioner/queue";

/** Makes sure Redis answers at `url`; returns a function that stops it when this call started it. */
export async function ensureRedis(url: string, dataDir: string): Promise<() => void> {
  if (await redisAnswers(url)) return () => {};
  const found = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  if (found.error || found.status !== 0) {
    console.error(
      `Redis does not answer at ${url} and no redis-server is on the PATH: start one with \`docker compose up -d redis\`.`,
    );
    process.exit(1);
  }
  const { hostname, port = "6379" } = new URL(url);
  const dir = join(dataDir, "redis");
  const pidFile = join(dir, "redis.pid");
  mkdirSync(dir, { recursive: true });
  console.log(
    `Redis does not answer at ${url}: starting a private redis-server on port ${port || "6379"}, append-only files in ${dir}`,
  );
  const started = spawnSync(
    "redis-server",
    [
      ...["--port", port || "6379", "--bind", hostname === "localhost" ? "127.0.0.1" : hostname],
      ...["--dir", dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
      ...[
        "--maxmemory-policy",
        "noeviction",
        // Jobs' hashes in Redis's compact encoding (README, Redis settings); the old name, which Redis 6 and 7 both take.
        "--hash-max-ziplist-value",
        "1024",
        "--daemonize",
        "yes",
        "--pidfile",
        pidFile,
        "--logfile",
        join(dir, "redis.log"),
      ],
    ],
    { stdio: "inherit" },
  );
  if (started.status !== 0) process.exit(1);
  for (let i = 0; i < 50 && !(await redisAnswers(url)); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (!(await redisAnswers(url))) {
    console.error(`redis-server did not come up; see ${join(dir, "redis.log")}`);
    process.exit(1);
  }
  return () => {
    if (!existsSync(pidFile)) return;
    try {
      process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGTERM");
    } catch {}
  };
}
