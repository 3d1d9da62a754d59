import { randomId } from "./ids.ts";
import type { ProviderName } from "./providers/names.ts";

/** A provider error, before it is dressed in that provider's envelope. */
export interface ErrorDetail {
  status: number;
  message: string;
  /** The input the error is about; BRIDGEPORT carries it as `field`, the others in the message. */
  field?: string;
  hint?: string;
  /** The provider's code, when the status alone does not decide it (e.g. `IDEMPOTENCY_KEY_REUSED`). */
  code?: string;
  headers?: Record<string, string>;
}

type Renderer = (detail: ErrorDetail) => Response;

const RENDERERS: Record<ProviderName, Renderer> = {
  artie: (detail) => json(detail.status, { error: detail.message }, detail.headers),
  bridgeport: (detail) => {
    const requestId = randomId("req_");
    const body = {
      code: detail.code ?? codeOf(bridgeportCodes, detail.status),
      message: detail.message,
      ...(detail.field === undefined ? {} : { field: detail.field }),
      ...(detail.hint === undefined ? {} : { hint: detail.hint }),
      requestId,
    };
    return json(detail.status, body, { ...detail.headers, "x-request-id": requestId });
  },
  prisma: (detail) => {
    const error = {
      code: detail.code ?? codeOf(prismaCodes, detail.status),
      message: detail.message,
      ...(detail.hint === undefined ? {} : { hint: detail.hint }),
    };
    return json(detail.status, { error }, { ...detail.headers, "x-request-id": randomId("req_") });
  },
};

/** Answers an error exactly as the provider's published document shapes it. */
export function providerError(provider: ProviderName, detail: ErrorDetail): Response {
  return RENDERERS[provider](detail);
}

/** A provider's error codes by status, and its codes for any other 5xx and 4xx. */
interface CodeTable {
  byStatus: Partial<Record<number, string>>;
  server: string;
  client: string;
}

// The ErrorEnvelope enum of BRIDGEPORT's document.
const bridgeportCodes: CodeTable = {
  byStatus: {
    401: "UNAUTHORIZED",
    403: "FORBIDDEN_SCOPE",
    404: "NOT_FOUND",
    409: "CONFLICT",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
  },
  server: "INTERNAL",
  client: "VALIDATION_ERROR",
};

const prismaCodes: CodeTable = {
  byStatus: {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited",
    503: "service_unavailable",
  },
  server: "internal_error",
  client: "invalid_request",
};

const codeOf = (table: CodeTable, status: number): string =>
  table.byStatus[status] ?? (status >= 500 ? table.server : table.client);

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers });
}
