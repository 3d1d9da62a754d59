/*
 * The API's Prometheus metrics, served at `GET /metrics` to a token with `jobs:read`:
 *
 *   provisioner_jobs{provider, status}          gauge: jobs per provider (its accounts' queues summed) by product status
 *                                               (queued, running, retrying, succeeded, dead)
 *   provisioner_dead_letters{provider}          gauge: dead letters (failed jobs) per provider
 *   provisioner_redis_up                        gauge: 1 when the queues could be read, else 0
 *   provisioner_jobs_finished_total{provider, account, outcome}
 *                                               counter: jobs every worker of the deployment
 *                                               finished (created, deduplicated, dead), kept in
 *                                               one Redis hash (packages/queue finished-counts.ts)
 *   provisioner_http_requests_total{method, route, status}
 *                                               counter: answered requests
 *   provisioner_http_request_duration_seconds{method, route}
 *                                               histogram: time to answer
 *   provisioner_process_*, provisioner_nodejs_*  prom-client's default process metrics
 *
 * The queue gauges are read from Redis on each scrape, never while the connection is down.
 * Labels hold only bounded, public values: provider names, statuses, HTTP methods, status
 * codes and route patterns (`/v1/jobs/:id`), never a path, an id, an input or a secret.
 */
import { type ProviderName, providerNames } from "@provisioner/provider-client";
import {
  deadLetterCounts,
  type FinishedCount,
  isRedisUnavailable,
  type JobStatus,
  jobStatuses,
  type QueueSet,
  readFinishedCounts,
  statusOfState,
} from "@provisioner/queue";
import type { JobState } from "bullmq";
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ApiEnv } from "./context.ts";

const prefix = "provisioner_";

/** Process metrics describe the process, not an app: one registry for them, shared by every app. */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix });
  }
  return processRegistry;
}

type Snapshot =
  | { up: false }
  | {
      up: true;
      jobs: Record<ProviderName, Record<JobStatus, number>>;
      deadLetters: Record<ProviderName, number>;
      finished: FinishedCount[];
    };

const zeroByStatus = () => Object.fromEntries(jobStatuses.map((status) => [status, 0])) as Record<JobStatus, number>;

async function readQueues(queues: QueueSet): Promise<Snapshot> {
  // A connection that is not ready would make BullMQ wait for it, and the scrape with it.
  if (queues.connection.status !== "ready") return { up: false };
  try {
    const [counts, deadLetters, finished] = await Promise.all([
      // Every account's queue, summed into its provider's gauges.
      Promise.all(queues.accounts.map(({ queue }) => queue.getJobCounts())),
      // The dead letters are the failed sets: one ZCARD each, whatever their size.
      deadLetterCounts(queues),
      // One HGETALL per account queue (a field per outcome): O(1) in jobs.
      readFinishedCounts(queues),
    ]);
    const jobs = Object.fromEntries(providerNames.map((provider) => [provider, zeroByStatus()])) as Record<
      ProviderName,
      Record<JobStatus, number>
    >;
    queues.accounts.forEach(({ provider }, i) => {
      for (const [state, count] of Object.entries(counts[i] ?? {})) {
        const status = state === "paused" ? "queued" : statusOfState(state as JobState);
        if (status) jobs[provider][status] += count;
      }
    });
    return { up: true, jobs, deadLetters, finished };
  } catch (error) {
    if (isRedisUnavailable(error)) return { up: false };
    throw error;
  }
}

const knownMethods = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const methodLabel = (method: string) => (knownMethods.has(method) ? method : "other");

/** The pattern of the endpoint that matched (`/v1/jobs/:id`), or "unmatched"; middleware (method ALL) does not count. */
function routeLabel(c: Context): string {
  const endpoint = matchedRoutes(c).findLast((route) => route.method !== "ALL");
  return endpoint?.path ?? "unmatched";
}

export interface ApiMetrics {
  /** The app's own metrics and the process's, for one scrape. */
  registry: Registry;
  /** Counts and times one answered request by method, route pattern and status (middleware.ts `observeRequests`). */
  recordRequest(c: Context<ApiEnv>, seconds: number): void;
}

/** A private registry per app, so tests can make many apps in one process. */
export function createMetrics(queues: QueueSet): ApiMetrics {
  const own = new Registry();
  const registers = [own];

  // Every queue gauge is filled from one read of Redis per scrape, shared by their collect() calls.
  let reading: Promise<Snapshot> | undefined;
  const snapshot = () => {
    reading ??= readQueues(queues).finally(() => {
      reading = undefined;
    });
    return reading;
  };

  new Gauge({
    name: `${prefix}jobs`,
    help: "Jobs per provider queue, by status.",
    labelNames: ["provider", "status"] as const,
    registers,
    async collect() {
      const read = await snapshot();
      this.reset();
      if (!read.up) return;
      for (const provider of providerNames) {
        for (const status of jobStatuses) this.set({ provider, status }, read.jobs[provider][status]);
      }
    },
  });
  new Gauge({
    name: `${prefix}dead_letters`,
    help: "Dead-letter entries per provider.",
    labelNames: ["provider"] as const,
    registers,
    async collect() {
      const read = await snapshot();
      this.reset();
      if (!read.up) return;
      for (const provider of providerNames) this.set({ provider }, read.deadLetters[provider]);
    },
  });
  new Counter({
    name: `${prefix}jobs_finished_total`,
    help: "Jobs finished by every worker of the deployment, by provider, account and outcome (created, deduplicated, dead).",
    labelNames: ["provider", "account", "outcome"] as const,
    registers,
    async collect() {
      const read = await snapshot();
      this.reset();
      if (!read.up) return;
      for (const { provider, account, outcome, count } of read.finished)
        this.inc({ provider, account, outcome }, count);
    },
  });
  new Gauge({
    name: `${prefix}redis_up`,
    help: "1 when the API could read the queues from Redis, 0 when not.",
    registers,
    async collect() {
      this.set((await snapshot()).up ? 1 : 0);
    },
  });

  const requests = new Counter({
    name: `${prefix}http_requests_total`,
    help: "HTTP requests answered, by method, route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    registers,
  });
  const durations = new Histogram({
    name: `${prefix}http_request_duration_seconds`,
    help: "Time to answer an HTTP request, by method and route pattern.",
    labelNames: ["method", "route"] as const,
    registers,
  });
  const recordRequest = (c: Context<ApiEnv>, seconds: number) => {
    const method = methodLabel(c.req.method);
    const route = routeLabel(c);
    durations.observe({ method, route }, seconds);
    requests.inc({ method, route, status: String(c.res.status) });
  };

  return { registry: Registry.merge([processMetrics(), own]), recordRequest };
}
