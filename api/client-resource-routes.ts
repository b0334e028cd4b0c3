/**
 * The routes a client's resources (agents, portal users) share under `/clients/{id}/...`: create,
 * list and get, each registered by its own call like the catalog routes in resource-routes.ts.
 */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AnySql } from '../db/client';
import { newId, type IdPrefix } from '../lib/ids';
import type { AppEnv } from './context';
import { conflictResponse } from './errors';
import { notFound, type ApiError } from '../lib/errors';
import { requireClient, unlessTaken } from '../services/clients';
import { PageQuerySchema, pageOf, pageSchema } from './pagination';
import { routeOf, type IdPath, type Resource, type RouteContext } from './resource-routes';
import { IdParam, jsonBody, jsonResponse } from './schemas';

/** Path parameters of one of a client's resources: the client's `id`, then the entry's. */
export function clientResourceParams<K extends string>(param: K) {
  const own = z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: param, in: 'path' } });
  return IdParam.extend({ [param]: own } as Record<K, typeof own>);
}

export type ClientResource<K extends string, S extends z.ZodType, Row> = Resource<S, Row> & {
  /** The collection's path, e.g. `/clients/{id}/agents`; an entry is `{path}/{<param>}`. */
  path: `/clients/{id}/${string}`;
  /** The entry's path parameter, e.g. `agentId`. */
  param: K;
  queries: {
    list(
      sql: AnySql,
      f: { agencyId: string; clientId: string; after?: string | undefined; limit: number },
    ): Promise<Row[]>;
    get(sql: AnySql, agencyId: string, clientId: string, id: string): Promise<Row | null>;
  };
};

/** Registrars of the standard routes of a client's resource `r` on `app`. */
export function clientResourceRoutes<K extends string, S extends z.ZodType, Row>(
  app: OpenAPIHono<AppEnv>,
  r: ClientResource<K, S, Row>,
) {
  const { noun, present, queries } = r;
  const route = routeOf(app, r.tags);

  return {
    /**
     * POST {path}: a new entry for the client (a 404 when the client is not the agency's), its id
     * prefixed `idPrefix`; a 409 from `taken` when the body collides with a unique constraint.
     */
    create<B extends z.ZodObject>(
      summary: string,
      o: {
        body: B;
        /** The 201 response's description. */
        description: string;
        idPrefix: IdPrefix;
        insert(
          sql: AnySql,
          row: { id: string; agencyId: string; clientId: string } & z.output<B>,
        ): Promise<Row>;
        taken(body: z.output<B>, clientId: string): ApiError;
      },
    ) {
      route(
        {
          method: 'post',
          path: r.path,
          summary,
          request: { params: IdParam, body: jsonBody(o.body) },
        },
        201,
        jsonResponse(r.schema, o.description),
        async (c: RouteContext<IdPath, z.output<B>>) => {
          const { id } = c.req.valid('param');
          const body = c.req.valid('json');
          const { sql } = c.var.deps;
          await requireClient(sql, c.var.agencyId, id);
          const row = await unlessTaken(
            o.insert(sql, {
              id: newId(o.idPrefix),
              agencyId: c.var.agencyId,
              clientId: id,
              ...body,
            }),
            () => o.taken(body, id),
          );
          return c.json(present(row), 201);
        },
        conflictResponse,
      );
    },

    /** GET {path}: a 404 when the client is not the agency's. */
    list(summary: string) {
      route(
        {
          method: 'get',
          path: r.path,
          summary,
          request: { params: IdParam, query: PageQuerySchema },
        },
        200,
        jsonResponse(pageSchema(r.schema, r.pageName), r.descriptions.page),
        async (c: RouteContext<IdPath, never, z.output<typeof PageQuerySchema>>) => {
          const { id } = c.req.valid('param');
          const q = c.req.valid('query');
          const { sql } = c.var.deps;
          await requireClient(sql, c.var.agencyId, id);
          const rows = await queries.list(sql, { agencyId: c.var.agencyId, clientId: id, ...q });
          return c.json(pageOf(rows.map(present), q.limit), 200);
        },
      );
    },

    get(summary: string) {
      route(
        {
          method: 'get',
          path: `${r.path}/{${r.param}}`,
          summary,
          request: { params: clientResourceParams(r.param) },
        },
        200,
        jsonResponse(r.schema, r.descriptions.entry),
        async (c: RouteContext<IdPath & Record<K, string>>) => {
          const path = c.req.valid('param');
          const row = await queries.get(c.var.deps.sql, c.var.agencyId, path.id, path[r.param]);
          if (!row) throw notFound(noun, path[r.param]);
          return c.json(present(row), 200);
        },
      );
    },
  };
}
