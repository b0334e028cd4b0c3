/** GET /health: whether Postgres and Temporal answer. 200 when both do, else 503. */
import { createRoute, z } from '@hono/zod-openapi';
import { newApp } from '../hono';

const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    postgres: z.enum(['up', 'down']),
    temporal: z.enum(['up', 'down']),
  })
  .openapi('Health');

const route = createRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  security: [],
  responses: {
    200: {
      description: 'Everything answers',
      content: { 'application/json': { schema: HealthSchema } },
    },
    503: {
      description: 'Something is down',
      content: { 'application/json': { schema: HealthSchema } },
    },
  },
});

async function within<T>(ms: number, p: Promise<T>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true).catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes() {
  return newApp().openapi(route, async (c) => {
    const { sql, temporal } = c.var.deps;
    const [pg, tp] = await Promise.all([
      within(2000, sql`select 1`),
      within(2000, temporal.connection.workflowService.getSystemInfo({})),
    ]);
    const body = {
      status: pg && tp ? ('ok' as const) : ('degraded' as const),
      postgres: pg ? ('up' as const) : ('down' as const),
      temporal: tp ? ('up' as const) : ('down' as const),
    };
    return pg && tp ? c.json(body, 200) : c.json(body, 503);
  });
}
