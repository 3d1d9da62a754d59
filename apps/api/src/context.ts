import { OpenAPIHono } from "@hono/zod-openapi";
import type { RequestIdVariables } from "hono/request-id";
import type { Router } from "hono/router";
import type { H, RouterRoute } from "hono/types";
import type { z } from "zod";
import { ApiError } from "./errors.ts";
import type { TokenIdentity } from "./identity.ts";

/** What middleware leaves on the context for handlers. */
export interface ApiEnv {
  Variables: RequestIdVariables & { token?: TokenIdentity };
}

/** The field a zod issue blames, as a dotted path (`input.name`); an unknown key names itself. */
export function fieldOf(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys" && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  return path.join(".");
}

/** A 400 naming the first field at fault, with the field's path prefixed by `prefix`. */
export function validationError(error: z.ZodError, prefix: readonly string[] = []): ApiError {
  const issue = error.issues[0];
  if (!issue) return new ApiError("VALIDATION_ERROR", "the request is invalid");
  const field = [...prefix, fieldOf(issue)].filter(Boolean).join(".");
  return field
    ? new ApiError("VALIDATION_ERROR", `${field}: ${issue.message}`, { field })
    : new ApiError("VALIDATION_ERROR", issue.message);
}

/**
 * Every router is made here so every route validates the same way: a failed request
 * schema is a 400 VALIDATION_ERROR naming the first field. `router` matters only for the
 * app itself (app.ts): routers mounted with `route()` hand their routes to the app's.
 */
export const createRouter = (router?: Router<[H, RouterRoute]>) =>
  new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
    ...(router ? { router } : {}),
  });
