import type { Context } from "hono";
import type { z } from "zod";
import type { ErrorDetail } from "./errors.ts";

/** The first problem zod found, as a 400 that names the field. */
export function invalidInput(error: z.ZodError): ErrorDetail {
  const issue = error.issues[0];
  if (issue === undefined) return { status: 400, message: "Invalid request body." };
  // zod reports unknown keys on the parent object; the key itself is the field to name.
  const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path;
  const field = path.map(String).join(".");
  if (field === "") return { status: 400, message: `Invalid request body: ${issue.message}.` };
  const reason = issue.code === "unrecognized_keys" ? "is not a known field" : issue.message;
  return { status: 400, message: `Invalid field "${field}": ${reason}.`, field };
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; detail: ErrorDetail };

/**
 * Reads the body as JSON. `maxBytes` caps its size (413), for the providers that
 * document a cap.
 */
export async function readJson(c: Context, maxBytes = Number.POSITIVE_INFINITY): Promise<JsonBody> {
  const text = await c.req.text();
  if (Buffer.byteLength(text) > maxBytes) {
    return {
      ok: false,
      detail: { status: 413, message: `Request body exceeds ${maxBytes} bytes.` },
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, detail: { status: 400, message: "Request body is not valid JSON." } };
  }
}
