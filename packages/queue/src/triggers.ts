import type { ProvisionerEvent } from "@provisioner/api-contract";
import type { ProviderName } from "@provisioner/provider-client";
import type { ProvisionerConfig } from "./config.ts";
import type { SubmitRequest } from "./enqueue.ts";

/** A `{{path}}` in a trigger's input names something the event does not have. */
export class TemplateError extends Error {
  override name = "TemplateError";
  readonly path: string;
  constructor(path: string, where: string) {
    super(`${where}: the event has no ${path}`);
    this.path = path;
  }
}

const placeholder = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;
const whole = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/;

function lookup(event: ProvisionerEvent, path: string, where: string): unknown {
  let node: unknown = event;
  for (const key of path.split(".")) {
    // Own keys only: a template must not reach `constructor` or `__proto__`.
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) throw new TemplateError(path, where);
    node = (node as Record<string, unknown>)[key];
  }
  if (node === undefined || node === null) throw new TemplateError(path, where);
  return node;
}

/**
 * Fills a trigger's input from the event. A string that is exactly one `{{path}}` takes the
 * value as it is (a number stays a number); placeholders inside longer strings are replaced
 * by the value's text.
 */
export function renderTemplate(template: unknown, event: ProvisionerEvent, where = "input"): unknown {
  if (typeof template === "string") {
    const single = whole.exec(template);
    if (single?.[1]) return lookup(event, single[1], where);
    return template.replace(placeholder, (_, path: string) => {
      const value = lookup(event, path, where);
      return typeof value === "object" ? JSON.stringify(value) : String(value);
    });
  }
  if (Array.isArray(template)) return template.map((item, i) => renderTemplate(item, event, `${where}.${i}`));
  if (typeof template === "object" && template !== null) {
    return Object.fromEntries(
      Object.entries(template).map(([key, value]) => [key, renderTemplate(value, event, `${where}.${key}`)]),
    );
  }
  return template;
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
): { trigger: number; request: SubmitRequest }[] {
  const matching = config.triggers
    .map((trigger, index) => ({ trigger, index }))
    .filter(({ trigger }) => trigger.source === source && trigger.event === event.type);
  return matching.map(({ trigger, index }, k) => ({
    trigger: index,
    request: {
      provider: trigger.provider as ProviderName,
      account: trigger.account,
      input: renderTemplate(trigger.input, event, `triggers.${index}.input`) as Record<string, unknown>,
      idempotencyKey: k === 0 ? webhookId : `${webhookId}#${k}`,
      metadata: { source, event: event.type },
    },
  }));
}
