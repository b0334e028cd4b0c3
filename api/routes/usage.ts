/**
 * POST /v1/usage: usage ingestion, for ingest keys and agency keys. Semantics in
 * services/usage-ingest.ts: valid events are stored, invalid ones reported by index and field,
 * duplicates reported and counted once; a batch with no valid event is refused (400).
 */
import { z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { commonErrorResponses } from '../errors';
import { ApiError } from '../../lib/errors';
import { newApp } from '../hono';
import { jsonBody, jsonResponse } from '../schemas';
import { ingestBatch, MAX_BATCH } from '../../services/usage-ingest';

const UsageEventSchema = z
  .object({
    id: z.string().min(1).max(255).openapi({
      description: 'The idempotency key: unique per agency; the same id twice counts once',
      example: 'call_8f2c1',
    }),
    client: z.string().min(1).max(200).openapi({
      description: 'The client\u2019s Tally id or the agency\u2019s external id for it',
    }),
    agent: z.string().min(1).max(200).nullable().optional().openapi({
      description: 'The agent\u2019s Tally id or external id (one of the client\u2019s)',
    }),
    metric: z.enum(['voice_seconds', 'chat_interactions', 'conversations', 'value_count']).openapi({
      description:
        'voice_seconds: call seconds (minute pools); chat_interactions: chats (minute pools in chat mode); conversations and value_count: counted and reported',
    }),
    quantity: z.number().int().min(0).max(1_000_000_000),
    time: z.string().openapi({
      format: 'date-time',
      description:
        'When it happened (ISO 8601 with zone). At most 5 minutes ahead of the server; not before the client\u2019s subscription started. An event of a closed period is billed as late usage on the next request.',
    }),
    properties: z.record(z.string(), z.unknown()).optional(),
    property: z.string().optional().openapi({
      description:
        'value_count only: the boolean property of `properties` counted (the event counts when it is true)',
    }),
  })
  .openapi('UsageEvent');

const UsageBatchSchema = z
  .object({ events: z.array(UsageEventSchema).min(1).max(MAX_BATCH) })
  .openapi('UsageBatch');

const UsageBatchResultSchema = z
  .object({
    object: z.literal('usage_batch'),
    received: z.number().int(),
    accepted: z.number().int().openapi({ description: 'Events stored by this request' }),
    duplicates: z
      .array(z.string())
      .openapi({ description: 'Ids already stored, or repeated in the batch: counted once' }),
    rejected: z
      .array(
        z.object({
          index: z.number().int(),
          id: z.string().nullable(),
          field: z.string().openapi({ example: 'events.3.time' }),
          message: z.string(),
        }),
      )
      .openapi({ description: 'Invalid events, not stored; the rest of the batch was' }),
  })
  .openapi('UsageBatchResult');

export function usageIngestRoutes() {
  const app = newApp();
  // Documented from the schemas above, validated by hand (per event, on the hot path).
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/usage',
    tags: ['usage'],
    summary: 'Ingest a batch of usage events (ingest key or agency key)',
    description:
      'Per-event acceptance: valid events are stored, invalid ones listed in `rejected` with their index and field, ids already seen listed in `duplicates`. A batch where no event is valid answers 400 with every problem in `details`.',
    request: { body: jsonBody(UsageBatchSchema) },
    responses: {
      200: jsonResponse(UsageBatchResultSchema, 'What was stored, duplicated and rejected'),
      ...commonErrorResponses,
    },
  });

  app.post('/usage', bodyLimit({ maxSize: 8 * 1024 * 1024 }), async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ApiError('validation_failed', 'body: must be JSON', [
        { field: 'body', message: 'must be JSON' },
      ]);
    }
    const events = (body as { events?: unknown } | null)?.events;
    if (!Array.isArray(events) || events.length === 0 || events.length > MAX_BATCH) {
      const message = `must be an array of 1 to ${MAX_BATCH} usage events`;
      throw new ApiError('validation_failed', `events: ${message}`, [{ field: 'events', message }]);
    }
    const result = await ingestBatch(c.var.deps.sql, c.var.agencyId, events);
    if (result.accepted === 0 && result.duplicates.length === 0) {
      throw new ApiError(
        'validation_failed',
        `no valid event in the batch; first: ${result.rejected[0]!.field}: ${result.rejected[0]!.message}`,
        result.rejected.map((r) => ({ field: r.field, message: r.message })),
      );
    }
    return c.json({ object: 'usage_batch' as const, ...result }, 200);
  });
  return app;
}
