import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Json, queuedCount, startTestApi, type TestApi } from "./test-support.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

const submit = (body: unknown) => api.call("POST", "/v1/jobs", { body });

describe("POST /v1/jobs for mysql", () => {
  it.each([
    [{ name: "tenant-one" }, "input.name"],
    [{ name: "9lives" }, "input.name"],
    [{ name: "x`; DROP DATABASE mysql; --" }, "input.name"],
    [{ name: `a${"b".repeat(64)}` }, "input.name"],
    [{ name: "ok", characterSet: "utf8' OR 1" }, "input.characterSet"],
    [{ name: "ok", collation: "utf8mb4_bin`" }, "input.collation"],
    [{ name: "ok", owner: "root" }, "input.owner"],
  ])("answers 400 naming the field for %j, and queues nothing", async (input, field) => {
    const res = await submit({ provider: "mysql", input });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ code: "VALIDATION_ERROR", field });
    expect(await queuedCount(api.queues.queueOf("mysql"))).toBe(0);
  });

  it("queues a plain name of 64 characters with a character set and collation", async () => {
    const name = `a${"b".repeat(63)}`;
    const res = await submit({ provider: "mysql", input: { name, characterSet: "utf8mb4", collation: "utf8mb4_bin" } });
    expect(res.status).toBe(202);
    expect(((await res.json()) as Json).id).toMatch(/^mysql-/);
    expect(await queuedCount(api.queues.queueOf("mysql"))).toBe(1);
  });
});
