import type { RedisConnection } from "@provisioner/queue";
import { type CallbackJob, callbackJobSchema, callbackQueueName, type QueueSet } from "@provisioner/queue";
import { DelayedError, UnrecoverableError, Worker } from "bullmq";
import type { Logger } from "pino";
import { Webhook } from "standardwebhooks";
import { fetch } from "undici";
import { addressRefusal, createCallbackAgent } from "./callback-transport.ts";
import type { WorkerMetrics } from "./metrics.ts";

export interface CallbackWorkerOptions {
  queues: QueueSet;
  connection: RedisConnection;
  logger: Logger;
  metrics: Pick<WorkerMetrics, "callbackDeliveries">;
  /** `whsec_…`: signs each notice with Standard Webhooks headers. Without it notices go unsigned. */
  signingSecret?: string | undefined;
  /** How long a receiver may take to answer. Default 10 s. */
  timeoutMs?: number;
  /** Notices sent at once per process. Default 10. */
  concurrency?: number;
}

/**
 * The receiver's answer decides whether to try again. It is the caller's own endpoint,
 * not a provider, so it has its own small rule: 2xx is delivered; 408, 429 and 5xx (and
 * no answer) are worth another try; any other 4xx means the endpoint refuses it for good.
 */
const deliveryIsRefused = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * Delivers job-end notices to `callbackUrl`s: at least once, signed, with BullMQ's
 * exponential backoff between tries. `webhook-id` stays the same across tries so the
 * receiver can drop repeats.
 */
export function startCallbackWorker(options: CallbackWorkerOptions): Worker<CallbackJob> {
  const { queues, logger, timeoutMs = 10_000 } = options;
  const signer = options.signingSecret ? new Webhook(options.signingSecret) : undefined;
  if (!signer) logger.warn("CALLBACK_SIGNING_SECRET is not set: job-end callbacks are sent unsigned");
  const agent = createCallbackAgent(queues.config.callbacks);

  const worker = new Worker<CallbackJob>(
    callbackQueueName,
    async (job, token, signal) => {
      const parsed = callbackJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError("callback job data is invalid");
      const { url, event } = parsed.data;
      const id = job.id as string;
      const body = JSON.stringify(event);
      const sentAt = new Date();
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "provisioner-callbacks",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
      };
      if (signer) headers["webhook-signature"] = signer.sign(id, sentAt, body);
      // Only the host is logged: a callback URL may carry a token in its path or query.
      const log = logger.child({ callbackId: id, host: new URL(url).host, attempt: job.attemptsMade + 1 });

      let status: number;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers,
          body,
          redirect: "manual",
          dispatcher: agent,
          // The processor's signal fires when a drain runs out of time.
          signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
        });
        status = response.status;
        await response.body?.cancel();
      } catch (error) {
        if (signal?.aborted) {
          // Shutdown cut the delivery short: not the receiver's fault, so no try is spent.
          log.warn("handing callback back on shutdown");
          await job.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        }
        const refusal = addressRefusal(error);
        if (refusal) {
          log.warn({ reason: refusal.name }, "callback refused: the receiver is on a private network");
          throw new UnrecoverableError(`callback not sent: ${refusal.message}`);
        }
        log.warn({ reason: (error as Error).name }, "callback receiver unreachable");
        throw new Error(`callback receiver unreachable (${(error as Error).name})`);
      }
      if (status >= 200 && status < 300) {
        log.info({ status }, "callback delivered");
        return;
      }
      log.warn({ status }, "callback refused");
      if (deliveryIsRefused(status)) throw new UnrecoverableError(`callback receiver answered ${status}`);
      throw new Error(`callback receiver answered ${status}`);
    },
    { connection: options.connection, prefix: queues.config.prefix, concurrency: options.concurrency ?? 10 },
  );
  worker.on("error", (error) => logger.error({ err: { message: error.message } }, "callback worker error"));
  // `finishedOn` is set when the failure was final: the job is in the failed set, a failed delivery.
  worker.on("completed", () => options.metrics.callbackDeliveries.inc({ outcome: "delivered" }));
  worker.on("failed", (job) =>
    options.metrics.callbackDeliveries.inc({ outcome: job?.finishedOn ? "failed" : "retrying" }),
  );
  worker.on("closed", () => void agent.destroy().catch(() => {}));
  return worker;
}
