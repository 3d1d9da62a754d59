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
      code: detail.code ?? bridgeportCode(detail.status),
      message: detail.message,
      ...(detail.field === undefined ? {} : { field: detail.field }),
      ...(detail.hint === undefined ? {} : { hint: detail.hint }),
      requestId,
    };
    return json(detail.status, body, { ...detail.headers, "x-request-id": requestId });
  },
  prisma: (detail) => {
    const error = {
      code: detail.code ?? prismaCode(detail.status),
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

// The ErrorEnvelope enum of BRIDGEPORT's document.
function bridgeportCode(status: number): string {
  switch (status) {
    case 401:
      return "UNAUTHORIZED";
    case 403:
      return "FORBIDDEN_SCOPE";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "CONFLICT";
    case 429:
      return "RATE_LIMITED";
    case 503:
      return "SERVICE_UNAVAILABLE";
    default:
      return status >= 500 ? "INTERNAL" : "VALIDATION_ERROR";
  }
}

function prismaCode(status: number): string {
  switch (status) {
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 429:
      return "rate_limited";
    case 503:
      return "service_unavailable";
    default:
      return status >= 500 ? "internal_error" : "invalid_request";
  }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers });
}
