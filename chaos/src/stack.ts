// The whole stack a run disrupts: Redis, the sandbox, the API and a pool of workers.
import type { ProcessGroup } from "./processes.ts";
import type { PrivateRedis } from "./redis.ts";
import { type Service, type StackEnv, stackEnv, startApiProcess, startSandboxProcess } from "./services.ts";
import { createWorkerPool, type WorkerPool } from "./workers.ts";

export interface Stack {
  redis: PrivateRedis;
  sandbox: Service;
  api: Service;
  env: StackEnv;
  pool: WorkerPool;
}

/** The sandbox, the API and two workers on `redis` (and the MySQL server, if given), each ready before the next starts. */
export async function startStack(
  group: ProcessGroup,
  runDir: string,
  graceMs: number,
  redis: PrivateRedis,
  mysqlAdminUrl?: string,
): Promise<Stack> {
  const sandbox = await startSandboxProcess(group);
  const env = stackEnv({ runDir, redis, sandboxUrl: sandbox.url, graceMs, mysqlAdminUrl });
  const api = await startApiProcess(group, env);
  const pool = createWorkerPool(group, env, 2, graceMs);
  await pool.fill();
  return { redis, sandbox, api, env, pool };
}
