import { z } from "zod";

/**
 * A string matching `regex`, whose OpenAPI `pattern` is `regex.source`.
 *
 * JSON Schema patterns carry no flags, and validators (ajv, so Prism and openapi-backend)
 * evaluate them with Unicode semantics; a `u` regex therefore means the same in the API
 * and in any validator of the document. The `pattern` is given explicitly because the
 * generator behind @hono/zod-openapi writes a regex's flags after its source (`^a$/u`),
 * a pattern that matches nothing the API takes.
 */
export function matching(regex: RegExp, message: string) {
  if (regex.flags !== "u")
    throw new TypeError(`${regex} must have the u flag and no other, as JSON Schema patterns do`);
  return z.string().regex(regex, message).meta({ pattern: regex.source });
}

/**
 * A GUID in any case, as zod checks it. The OpenAPI format `uuid` alone would also take
 * `urn:uuid:…` (ajv-formats does), which zod refuses; the pattern says so.
 */
export const guid = () => z.guid().meta({ pattern: z.regexes.guid.source });
