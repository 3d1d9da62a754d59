import { z } from "zod";

/** `GET /healthz` and `GET /readyz` when all is well (otherwise the error envelope). */
export const okSchema = z.object({ ok: z.literal(true) });
