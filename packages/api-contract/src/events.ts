import { z } from "zod";
import { submittedSchema } from "./jobs.ts";

/** A signed event's body (`POST /v1/events/{source}`): what happened, when, and its data. */
export const eventSchema = z.object({
  type: z.string().min(1).max(200),
  timestamp: z.string().min(1).max(100),
  data: z.record(z.string(), z.unknown()),
});
export type ProvisionerEvent = z.output<typeof eventSchema>;

/** The jobs an event made (none when no trigger matches). */
export const eventAcceptedSchema = z
  .object({ eventId: z.string(), jobs: z.array(submittedSchema) })
  .meta({ id: "EventAccepted" });
export type EventAccepted = z.output<typeof eventAcceptedSchema>;
