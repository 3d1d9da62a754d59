import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Harness } from "./test-support.ts";

const mainPath = fileURLToPath(new URL("./main.ts", import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it has written so far, stdout and stderr. */
  output(): string;
}

/** A worker in its own process, as `npm run start:worker` runs it; resolves once it is taking jobs. */
export async function spawnWorker(harness: Harness, extraEnv: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [mainPath], {
    env: {
      ...process.env,
      ...harness.env,
      LOG_LEVEL: "info",
      WORKER_LOCK_DURATION_MS: "2000",
      WORKER_STALLED_INTERVAL_MS: "1000",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`worker did not start: ${output}`));
    }, 15_000);
    const ready = () => {
      if (!output.includes("worker ready")) return;
      clearTimeout(timer);
      child.stdout?.off("data", ready);
      resolve();
    };
    child.stdout?.on("data", ready);
    child.once("exit", (code) => reject(new Error(`worker exited (${code}) before it was ready: ${output}`)));
  });
  return { child, output: () => output };
}
