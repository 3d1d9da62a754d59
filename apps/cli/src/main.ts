#!/usr/bin/env -S node --max-semi-space-size=8 --max-old-space-size=64
// The `provisioner` process: the command line, the environment and Ctrl-C. Everything else is in cli.ts.
import { run } from "./cli.ts";
import { processIo } from "./io.ts";

const controller = new AbortController();
// The first Ctrl-C stops waiting (the jobs go on in the workers); a second one leaves at once.
process.once("SIGINT", () => {
  controller.abort(new Error("interrupted"));
  process.once("SIGINT", () => process.exit(130));
});

process.exitCode = await run(process.argv.slice(2), { env: process.env, io: processIo(), signal: controller.signal });
