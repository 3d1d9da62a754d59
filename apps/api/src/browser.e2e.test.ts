// The docs and the dashboard in a real browser (Debian's chromium, driven by playwright-core),
// against a started stack with jobs in every state. Every request to a host other than the
// API's is aborted and recorded, and each page runs under its content security policy, so a
// page that needs the internet, or breaks its policy, fails here.
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canaries, type Stack, seedKnownRun, startStack, waitForJob } from "./stack.test-support.ts";
import { adminToken, bridgeportInput, type Json } from "./test-support.ts";

const chromiumPath = "/usr/bin/chromium";
const haveBrowser = existsSync(chromiumPath);
if (!haveBrowser) {
  if (process.env.CI === "true") throw new Error(`${chromiumPath} is missing: .ci/run installs the chromium package`);
  console.warn(
    `\n!!!!!!!!\n!!! SKIPPING the browser test: ${chromiumPath} is missing (apt-get install chromium). CI fails instead.\n!!!!!!!!\n`,
  );
}
const screenshots = fileURLToPath(new URL("../../../docs/screenshots/", import.meta.url));

let stack: Stack;
let browser: Browser;
let run: Awaited<ReturnType<typeof seedKnownRun>>;
/** Requests the pages tried to make to any other host. */
const offHost: string[] = [];
/** Console errors and CSP reports. */
const pageErrors: string[] = [];
/** Every body the API sent the browser, to look for secrets in. */
const bodies: string[] = [];

async function openContext(credentials?: { username: string; password: string }): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    ...(credentials ? { httpCredentials: credentials } : {}),
  });
  const apiHost = new URL(stack.apiUrl).host;
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.host === apiHost || url.protocol === "data:") return route.continue();
    offHost.push(url.href);
    return route.abort("blockedbyclient");
  });
  context.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  context.on("response", async (response) => {
    const type = response.headers()["content-type"] ?? "";
    if (/json|html/.test(type)) bodies.push(await response.text().catch(() => ""));
  });
  return context;
}

const textOf = (page: Page) => page.content();
const noCanaries = (text: string) => {
  for (const canary of Object.values(canaries)) expect(text).not.toContain(canary);
  expect(text).not.toContain(adminToken);
  expect(text).not.toContain("enc:v1:");
};

describe.skipIf(!haveBrowser)("the docs and the dashboard in a browser, offline", () => {
  beforeAll(async () => {
    stack = await startStack();
    run = await seedKnownRun(stack);
    // Waiting: a job for a provider no worker serves here. Delayed: one the provider asks to come back in an hour.
    await stack.call("POST", "/v1/jobs", {
      provider: "prisma",
      input: { projectId: "proj_demo1", name: "waiting_db" },
    });
    stack.sandbox.state.setFaults([
      { provider: "bridgeport", fault: "error", status: 503, retryAfter: "3600", namePrefix: "later_" },
    ]);
    const later: Json = await (
      await stack.call("POST", "/v1/jobs", {
        provider: "bridgeport",
        input: bridgeportInput("later_db", canaries.password),
      })
    ).json();
    await waitForJob(stack, later.id, "retrying");
    mkdirSync(screenshots, { recursive: true });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("shows the POST /v1/jobs operation and its request body at /docs", async () => {
    const context = await openContext();
    const page = await context.newPage();
    await page.goto(`${stack.apiUrl}/docs`);
    const operation = page.locator("#operations-jobs-submitJob");
    await operation.locator(".opblock-summary").click();
    await expect.poll(() => operation.innerText(), { timeout: 15_000 }).toContain("Request body");
    await operation.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${screenshots}docs.png` });
    const text = await operation.innerText();
    expect(text).toMatch(/POST\s*\/v1\/jobs/);
    // The request body, ready to edit and send (try-it-out is on): an example JobRequest.
    const body = await operation.locator("textarea.body-param__text").inputValue();
    expect(JSON.parse(body)).toMatchObject({ provider: expect.any(String), input: expect.any(Object) });
    expect(await page.locator(".btn.authorize").count()).toBe(1);
    noCanaries(await textOf(page));
    await context.close();
  }, 60_000);

  it("shows every queue, a dead job with its error, and no secret on the dashboard", async () => {
    const context = await openContext({ username: "ops", password: adminToken });
    const page = await context.newPage();
    await page.goto(`${stack.apiUrl}/admin/queues`);
    // Every configured account's queue (this stack configures the three HTTP providers) and the callbacks.
    for (const queue of ["{artie.default}", "{bridgeport.default}", "{prisma.default}", "{callbacks}"]) {
      await expect.poll(() => page.locator("body").innerText(), { timeout: 15_000 }).toContain(queue);
    }
    await expect.poll(() => page.locator("main").innerText(), { timeout: 15_000 }).not.toContain("Loading");
    await page.screenshot({ path: `${screenshots}dashboard.png`, fullPage: true });
    noCanaries(await textOf(page));

    const dead: Json = await (await stack.call("GET", `/v1/dead-letters/${run.dead}`)).json();
    await page.goto(`${stack.apiUrl}/admin/queues/queue/${encodeURIComponent("{bridgeport.default}")}?status=failed`);
    await expect.poll(() => page.locator("body").innerText(), { timeout: 15_000 }).toContain(run.dead);
    await expect.poll(() => page.locator("body").innerText()).toContain(dead.reason.message);
    await page.screenshot({ path: `${screenshots}dashboard-dead.png`, fullPage: true });
    noCanaries(await textOf(page));

    await page.goto(`${stack.apiUrl}/admin/queues/queue/${encodeURIComponent("{callbacks}")}?status=failed`);
    await expect.poll(() => page.locator("body").innerText(), { timeout: 15_000 }).toContain(run.failedDelivery);
    noCanaries(await textOf(page));
    await context.close();
  }, 60_000);

  it("asked no other host for anything, broke no policy, and sent no secret", () => {
    expect(offHost).toEqual([]);
    expect(pageErrors.filter((error) => /Content Security Policy|Refused to/i.test(error))).toEqual([]);
    expect(bodies.length).toBeGreaterThan(3);
    for (const body of bodies) noCanaries(body);
  });
});
