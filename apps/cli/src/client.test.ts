import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createApiClient } from "./client.ts";
import { ApiError, formatError, NetworkError, ProtocolError } from "./errors.ts";
import type { RetryNotice } from "./retry.ts";

type Handler = (request: IncomingMessage, response: ServerResponse) => void;
let server: Server | undefined;

/** A real HTTP server answering each request with the next handler (the last one repeats). */
async function scripted(handlers: Handler[]) {
  const seen: { method?: string | undefined; url?: string | undefined; authorization?: string | undefined }[] = [];
  server = createServer((request, response) => {
    seen.push({ method: request.method, url: request.url, authorization: request.headers.authorization });
    (handlers[seen.length - 1] ?? (handlers.at(-1) as Handler))(request, response);
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen };
}
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_, response) => {
    response.writeHead(status, { "content-type": "application/json", ...headers });
    response.end(JSON.stringify(body));
  };
const batch = {
  id: "b1",
  total: 1,
  counts: { queued: 0, running: 0, retrying: 0, succeeded: 1, dead: 0, expired: 0 },
  outcomes: { created: 1, deduplicated: 0 },
  finished: true,
  dead: [],
  deadCursor: null,
};
const envelope = (code: string, message: string, more: Record<string, string> = {}) => ({
  error: { code, message, requestId: "req-1", ...more },
});
const fastRetry = { retries: 3, minDelayMs: 5, maxDelayMs: 2_000 };

describe("the API client", () => {
  it("sends the token as a bearer header and validates the answer", async () => {
    const { url, seen } = await scripted([json(200, batch)]);
    const client = createApiClient({ url, token: "secret-token" });
    expect(await client.getBatch("b1")).toEqual(batch);
    expect(seen).toEqual([{ method: "GET", url: "/v1/batches/b1", authorization: "Bearer secret-token" }]);
  });

  it("waits out a 503's Retry-After, then succeeds", async () => {
    const { url, seen } = await scripted([
      json(503, envelope("REDIS_UNAVAILABLE", "Redis is unreachable"), { "retry-after": "1" }),
      json(200, batch),
    ]);
    const notices: RetryNotice[] = [];
    const client = createApiClient({ url, token: "t", retry: { ...fastRetry, onRetry: (n) => notices.push(n) } });
    const started = performance.now();
    await client.getBatch("b1");
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(seen).toHaveLength(2);
    expect(notices).toHaveLength(1);
    expect(notices[0]?.delayMs).toBeGreaterThanOrEqual(1000);
  });

  it("retries a 429 and a gateway's non-JSON 502, and gives up after the retries", async () => {
    const proxyPage: Handler = (_, response) => {
      response.writeHead(502, { "content-type": "text/html" });
      response.end("<html><body>Bad Gateway</body></html>");
    };
    const { url, seen } = await scripted([json(429, envelope("RATE_LIMITED", "slow down")), proxyPage]);
    const client = createApiClient({ url, token: "t", retry: fastRetry });
    const error = await client.getJob("bridgeport-1").catch((caught: unknown) => caught);
    expect(seen).toHaveLength(4);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 502, code: "HTTP_502", message: "<html><body>Bad Gateway</body></html>" });
  });

  it("does not retry a 4xx, and shows its code, message, field and request id", async () => {
    const { url, seen } = await scripted([
      json(
        400,
        envelope("VALIDATION_ERROR", "give provider, kind, or all: true", { field: "all", hint: "see --help" }),
      ),
    ]);
    const client = createApiClient({ url, token: "t", retry: fastRetry });
    const error = await client.replayDeadLetters({}).catch((caught: unknown) => caught);
    expect(seen).toHaveLength(1);
    expect(formatError(error)).toBe(
      "VALIDATION_ERROR: give provider, kind, or all: true (field: all)\n  hint: see --help\n  request id: req-1",
    );
  });

  it("turns a refused connection into a NetworkError after retrying", async () => {
    const { url } = await scripted([json(200, batch)]);
    await new Promise((resolve) => server?.close(resolve));
    const notices: RetryNotice[] = [];
    const client = createApiClient({ url, token: "t", retry: { ...fastRetry, onRetry: (n) => notices.push(n) } });
    const error = await client.getBatch("b1").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(/cannot reach the API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(notices).toHaveLength(3);
  });

  it("says so when an answer is not the shape it knows", async () => {
    const { url } = await scripted([json(200, { id: "b1" })]);
    const error = await createApiClient({ url, token: "t" })
      .getBatch("b1")
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(/^GET \/v1\/batches\/b1 answered in a shape this CLI does not know/);
  });

  it("treats a dead letter already gone as discarded by someone else", async () => {
    const { url } = await scripted([json(404, envelope("NOT_FOUND", "no dead letter x"))]);
    expect(await createApiClient({ url, token: "t" }).discardDeadLetter("x")).toBe(false);
  });
});
