import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminToken, bridgeportInput, startTestApi, type TestApi } from "./test-support.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`ops:${password}`).toString("base64")}` });

describe("the queues' dashboard", () => {
  it("asks for credentials, and refuses a wrong token", async () => {
    const anonymous = await api.app.request("/admin/queues");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect((await api.app.request("/admin/queues", { headers: basic("nope") })).status).toBe(401);
  });

  it("serves the board to an API token given as the password", async () => {
    const page = await api.app.request("/admin/queues", { headers: basic(adminToken) });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
  });

  it("names no host but the API's own in its page, under a policy that forbids the others", async () => {
    const page = await api.app.request("/admin/queues", { headers: basic(adminToken) });
    const html = await page.text();
    expect(html).toContain("static/js/main.");
    expect(html).not.toMatch(/https?:\/\//);
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'; script-src 'self';/);
  });

  it("shows job data with encrypted fields masked, never the secret or its ciphertext", async () => {
    const password = "dashboard-canary-pw";
    const created = await api.call("POST", "/v1/jobs", {
      body: { provider: "bridgeport", input: bridgeportInput("dash-db", password) },
    });
    expect(created.status).toBe(202);
    const listing = await api.app.request(
      `/admin/queues/api/queues?activeQueue=${encodeURIComponent("{bridgeport.default}")}&status=prioritized&page=1`,
      {
        headers: basic(adminToken),
      },
    );
    expect(listing.status).toBe(200);
    const text = await listing.text();
    expect(text).toContain("dash-db");
    expect(text).toContain('"lane":"interactive"');
    expect(text).toContain("[encrypted]");
    expect(text).not.toContain(password);
    expect(text).not.toContain("enc:v1:");
  });
});
