import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";
import { renderTemplate, requestsForEvent, TemplateError } from "./triggers.ts";

const event = {
  type: "tenant.created",
  timestamp: "2026-11-22T08:00:00Z",
  data: { tenantId: "t42", seats: 5, plan: { tier: "pro" } },
};

describe("renderTemplate", () => {
  it("fills placeholders inside strings and keeps a whole placeholder's type", () => {
    expect(
      renderTemplate(
        { name: "tenant-{{data.tenantId}}", port: "{{data.seats}}", nested: ["{{ data.plan.tier }}"] },
        event,
      ),
    ).toEqual({
      name: "tenant-t42",
      port: 5,
      nested: ["pro"],
    });
  });

  it("names the path the event lacks, and where the template used it", () => {
    expect(() => renderTemplate({ name: "x-{{data.missing}}" }, event)).toThrow(TemplateError);
    expect(() => renderTemplate({ name: "x-{{data.missing}}" }, event)).toThrow(
      /input\.name: the event has no data\.missing/,
    );
  });

  it("never reaches inherited properties", () => {
    expect(() => renderTemplate("{{data.constructor}}", event)).toThrow(TemplateError);
    expect(() => renderTemplate("{{data.__proto__}}", event)).toThrow(TemplateError);
  });
});

describe("requestsForEvent", () => {
  const config = {
    ...loadConfig({
      PROVISIONER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      BRIDGEPORT_API_URL: "http://b",
      BRIDGEPORT_API_TOKEN: "t",
    }),
    triggers: [
      {
        source: "billing",
        event: "tenant.created",
        provider: "bridgeport" as const,
        account: "default",
        input: { envId: "env_prod", name: "tenant-{{data.tenantId}}", type: "postgres" },
      },
      { source: "billing", event: "tenant.deleted", provider: "bridgeport" as const, account: "default", input: {} },
      {
        source: "billing",
        event: "tenant.created",
        provider: "bridgeport" as const,
        account: "default",
        input: { envId: "env_dr", name: "tenant-{{data.tenantId}}", type: "postgres" },
      },
    ],
  };

  it("makes one request per matching trigger, keyed by the webhook id", () => {
    const requests = requestsForEvent(config, "billing", "msg_1", event);
    expect(
      requests.map(({ trigger, request }) => [
        trigger,
        request.idempotencyKey,
        request.input.envId,
        request.input.name,
      ]),
    ).toEqual([
      [0, "msg_1", "env_prod", "tenant-t42"],
      [2, "msg_1#1", "env_dr", "tenant-t42"],
    ]);
  });

  it("makes none for another source or another event type", () => {
    expect(requestsForEvent(config, "crm", "msg_2", event)).toEqual([]);
    expect(requestsForEvent(config, "billing", "msg_3", { ...event, type: "invoice.paid" })).toEqual([]);
  });
});
