import { z } from "zod";
import { readSandboxEnv } from "./env.ts";
import { startSandbox } from "./start.ts";

// The sandbox process: configuration from the environment, listen, stop on a signal.

let options: ReturnType<typeof readSandboxEnv>;
try {
  options = readSandboxEnv(process.env);
} catch (error) {
  const detail = error instanceof z.ZodError ? z.prettifyError(error) : String(error);
  console.error(`sandbox: invalid configuration\n${detail}`);
  process.exit(1);
}

const sandbox = await startSandbox(options);
console.log(`sandbox listening on ${sandbox.url} (providers at ${sandbox.url}/artie, /bridgeport, /prisma)`);

const stop = async (signal: NodeJS.Signals) => {
  console.log(`sandbox: ${signal}, closing`);
  await sandbox.close();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
