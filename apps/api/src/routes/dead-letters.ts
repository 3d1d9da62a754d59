import { createRoute } from "@hono/zod-openapi";
import {
  deadLetterListSchema,
  deadLetterViewSchema,
  listDeadLettersQuerySchema,
  replayedManySchema,
  replayedSchema,
  replayManySchema,
  replayOneSchema,
} from "@provisioner/api-contract";
import { providerInputSchemas } from "@provisioner/provider-client";
import {
  discardDeadLetter,
  getDeadLetter,
  listDeadLetters,
  NotDeadError,
  type QueueSet,
  replayDeadLetter,
  replayDeadLetters,
} from "@provisioner/queue";
import { createRouter, validationError } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import { guardedErrors, idParamSchema, json, noContent, scoped } from "./common.ts";

const base = { tags: ["dead letters"], ...scoped("dead-letters:manage") };

const listRoute = createRoute({
  ...base,
  method: "get",
  operationId: "listDeadLetters",
  path: "/dead-letters",
  summary: "What died and why, newest first, a page at a time (cursor)",
  request: { query: listDeadLettersQuerySchema },
  responses: { 200: json(deadLetterListSchema, "A page of dead letters."), ...guardedErrors() },
});

const getRoute = createRoute({
  ...base,
  method: "get",
  operationId: "getDeadLetter",
  path: "/dead-letters/{id}",
  summary: "One dead letter: every attempt's error and the original request (no secrets)",
  request: { params: idParamSchema },
  responses: { 200: json(deadLetterViewSchema, "The dead letter."), ...guardedErrors(404) },
});

const replayOneRoute = createRoute({
  ...base,
  method: "post",
  operationId: "replayDeadLetter",
  path: "/dead-letters/{id}/replay",
  summary: "Queue a dead job again with fresh attempts and the same idempotency key",
  request: {
    params: idParamSchema,
    body: { required: false, content: { "application/json": { schema: replayOneSchema } } },
  },
  responses: {
    202: json(replayedSchema, "Queued again under the same id."),
    ...guardedErrors(404, 409, 415),
  },
});

const replayManyRoute = createRoute({
  ...base,
  method: "post",
  operationId: "replayDeadLetters",
  path: "/dead-letters/replay",
  summary: "Replay every dead letter of a provider, of a kind, or all of them",
  request: { body: { required: true, content: { "application/json": { schema: replayManySchema } } } },
  responses: {
    202: json(replayedManySchema, "Queued again."),
    ...guardedErrors(415),
  },
});

const discardRoute = createRoute({
  ...base,
  method: "delete",
  operationId: "discardDeadLetter",
  path: "/dead-letters/{id}",
  summary: "Discard a dead letter and its failed job, for good (the job then answers 404 and its key is free)",
  request: { params: idParamSchema },
  responses: { 204: noContent("Discarded."), ...guardedErrors(404) },
});

export function deadLetterRoutes(queues: QueueSet) {
  return createRouter()
    .openapi(listRoute, async (c) => c.json(await listDeadLetters(queues, c.req.valid("query")), 200))
    .openapi(getRoute, async (c) => {
      const { id } = c.req.valid("param");
      const entry = await getDeadLetter(queues, id);
      if (!entry) throw notFound("dead letter", id);
      return c.json(entry, 200);
    })
    .openapi(replayOneRoute, async (c) => {
      const { id } = c.req.valid("param");
      const { input } = c.req.valid("json");
      let corrected: Record<string, unknown> | undefined;
      if (input !== undefined) {
        const entry = await getDeadLetter(queues, id);
        if (!entry) throw notFound("dead letter", id);
        const parsed = providerInputSchemas[entry.provider].safeParse(input);
        if (!parsed.success) throw validationError(parsed.error, ["input"]);
        corrected = parsed.data as Record<string, unknown>;
      }
      try {
        const replayed = await replayDeadLetter(queues, id, { input: corrected });
        if (!replayed) throw notFound("dead letter", id);
        return c.json(replayed, 202);
      } catch (error) {
        if (error instanceof NotDeadError) {
          throw new ApiError("CONFLICT", error.message, { hint: "discard the dead letter if the job is in hand" });
        }
        throw error;
      }
    })
    .openapi(replayManyRoute, async (c) => {
      const { provider, kind, limit, cursor } = c.req.valid("json");
      const { replayed, skipped, nextCursor } = await replayDeadLetters(queues, { provider, kind }, { limit, cursor });
      // Without `limit` the answer is the one it always was: every match, no cursor.
      const answer = { replayed: replayed.length, ids: replayed, skipped };
      return c.json(limit === undefined ? answer : { ...answer, nextCursor }, 202);
    })
    .openapi(discardRoute, async (c) => {
      const { id } = c.req.valid("param");
      if (!(await discardDeadLetter(queues, id))) throw notFound("dead letter", id);
      return c.body(null, 204);
    });
}
