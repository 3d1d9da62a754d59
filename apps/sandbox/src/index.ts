// The sandbox's public surface. Everything else under src/ is internal.
export type { SandboxState } from "./admin.ts";
export { createSandboxApp, type SandboxApp } from "./app.ts";
export type { SandboxEnv } from "./context.ts";
export type { FaultRule } from "./faults.ts";
export type { SandboxOptions, TokenPair } from "./options.ts";
export { defaultSandboxTokens, sandboxProviderEnv } from "./provider-env.ts";
export type { OperationName, ProviderName } from "./providers/names.ts";
export { type RunningSandbox, type StartSandboxOptions, startSandbox } from "./start.ts";
export type { SandboxStats } from "./stats.ts";
