// The root's `scripts/check-node.cjs` (npm's preinstall, and the first step of `npm start`),
// run as a real process under a Node.js that reports an older version.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("../../../scripts/check-node.cjs", import.meta.url));
const runAs = (version: string) =>
  promisify(execFile)(process.execPath, [
    "-e",
    `Object.defineProperty(process, "version", { value: ${JSON.stringify(version)} }); require(${JSON.stringify(script)});`,
  ]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

describe("the Node.js version check before install and start", () => {
  it("says in one line what is needed and how to get it on an older Node.js", async () => {
    for (const version of ["v20.11.1", "v22.17.0", "v8.17.0"]) {
      const { code, stderr } = await runAs(version);
      expect(code).toBe(1);
      expect(stderr).toBe(
        `provisioner: Node.js 22.18 or newer is needed, this is ${version}; install Node.js 24 (\`nvm install\` reads .nvmrc, or https://nodejs.org) and run this again.\n`,
      );
    }
  });

  it("lets a new enough Node.js through, silently", async () => {
    for (const version of ["v22.18.0", "v24.0.0", "v30.1.2"]) {
      expect(await runAs(version)).toEqual({ code: 0, stdout: "", stderr: "" });
    }
  });
});
