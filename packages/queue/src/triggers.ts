import type { ProvisionerEvent } from "@provisioner/api-contract";
import { fillTemplate, valueAtPath } from "@provisioner/json";
import type { ProviderName } from "@provisioner/provider-client";
import type { ProvisionerConfig } from "./config.ts";
import type { UnvalidatedRequest } from "./enqueue.ts";

/** A `{{path}}` in a trigger's input names something the event does not have. */
export class TemplateError extends Error {
  override name = "TemplateError";
  readonly path: string;
  constructor(path: string, where: string) {
    super(`${where}: the event has no ${path}`);
    this.path = path;
  }
}

/**
 * Fills a trigger's input from the event: `{{data.tenantId}}` is the event's value at that
 * path (the syntax is `@provisioner/json`'s, shared with the CLI's bulk templates).
 */
export function renderTemplate(template: unknown, event: ProvisionerEvent, where = "input"): unknown {
  return fillTemplate(
    template,
    { get: (path) => valueAtPath(event, path), missing: (path, at) => new TemplateError(path, at) },
    where,
  );
}

/**
 * The jobs one event makes: one per trigger configured for its source and type, each keyed
 * by the event's `webhook-id` (the second and later triggers add `#n`), so a redelivered
 * event makes no new job. Inputs are rendered, not yet validated.
 */
export function requestsForEvent(
  config: ProvisionerConfig,
  source: string,
  webhookId: string,
  event: ProvisionerEvent,
): { trigger: number; request: UnvalidatedRequest }[] {
  const matching = config.triggers
    .map((trigger, index) => ({ trigger, index }))
    .filter(({ trigger }) => trigger.source === source && trigger.event === event.type);
  return matching.map(({ trigger, index }, k) => ({
    trigger: index,
    request: {
      provider: trigger.provider as ProviderName,
      account: trigger.account,
      lane: trigger.lane,
      input: renderTemplate(trigger.input, event, `triggers.${index}.input`) as Record<string, unknown>,
      idempotencyKey: k === 0 ? webhookId : `${webhookId}#${k}`,
      metadata: { source, event: event.type },
    },
  }));
}
