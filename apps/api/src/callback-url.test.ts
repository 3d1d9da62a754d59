import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "./app.ts";
import {
  type Json,
  jsonRequest,
  queuedCount,
  silentLogger,
  startTestApi,
  type TestApi,
  testTokens,
} from "./test-support.ts";

// The security side of callbackUrl: a caller must not make the worker POST to private networks.
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

let names = 0;
const job = (callbackUrl: string) => ({ provider: "postgres", input: { name: `cb_${names++}` }, callbackUrl });
const queued = () => queuedCount(api.queues.queueOf("postgres"));

const privateLiterals = [
  "http://169.254.169.254/latest/meta-data/iam/",
  "http://127.0.0.1:8080/hook",
  "http://2130706433/hook",
  "http://0x7f000001/hook",
  "http://10.1.2.3/hook",
  "http://172.20.0.5/hook",
  "http://192.168.1.1/hook",
  "http://100.100.100.200/latest/meta-data/",
  "http://0.0.0.0:3000/hook",
  "http://[::1]/hook",
  "http://[::]/hook",
  "http://[::ffff:169.254.169.254]/hook",
  "http://[::ffff:a9fe:a9fe]/hook",
  "https://[fe80::1]/hook",
  "https://[fd00:ec2::254]/hook",
];

describe("POST /v1/jobs callbackUrl", () => {
  it.each(privateLiterals)("answers 400 naming callbackUrl for %s, queuing nothing", async (url) => {
    const before = await queued();
    const res = await api.call("POST", "/v1/jobs", { body: job(url) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ code: "VALIDATION_ERROR", field: "callbackUrl" });
    expect(await queued()).toBe(before);
  });

  it.each(["https://hooks.example.com/provisioner", "http://localhost:3000/hook", "https://8.8.8.8/hook"])(
    "accepts %s (a name is judged where the worker connects)",
    async (url) => {
      const res = await api.call("POST", "/v1/jobs", { body: job(url) });
      expect(res.status).toBe(202);
    },
  );

  it("accepts a private address when CALLBACK_ALLOW_PRIVATE_NETWORKS is on", async () => {
    const config = { ...api.queues.config, callbacks: { ...api.queues.config.callbacks, allowPrivateNetworks: true } };
    const app = createApp({ queues: { ...api.queues, config }, tokens: testTokens, logger: silentLogger });
    const res = await app.request("/v1/jobs", jsonRequest("POST", job("http://127.0.0.1:9000/hook")));
    expect(res.status).toBe(202);
  });
});

describe("POST /v1/jobs/bulk callbackUrl", () => {
  it("rejects the items whose callbackUrl is a private address, naming callbackUrl, and queues the rest", async () => {
    const res = await api.call("POST", "/v1/jobs/bulk", {
      body: { jobs: [job("https://hooks.example.com/a"), job("http://169.254.169.254/"), job("http://[::1]:80/")] },
    });
    expect(res.status).toBe(202);
    const body: Json = await res.json();
    expect(body.accepted).toBe(1);
    expect(body.rejected).toEqual([
      { index: 1, error: expect.objectContaining({ code: "VALIDATION_ERROR", field: "callbackUrl" }) },
      { index: 2, error: expect.objectContaining({ code: "VALIDATION_ERROR", field: "callbackUrl" }) },
    ]);
  });
});
