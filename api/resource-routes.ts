/**
 * Routes that are the same for several resources, each registered by its own call so that a
 * router keeps a route that behaves differently explicit and in its place (the order of
 * registration is the order of the OpenAPI document):
 * - an agency catalog resource (plans, packs, coupons, one-time products): create, list (active
 *   only unless includeArchived), get, update and archive;
 * - a client's resource (agents, portal users): in client-resource-routes.ts, on the pieces
 *   exported here for it.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AnySql } from '../db/client';
import { newId, type IdPrefix } from '../lib/ids';
import type { AppEnv } from './context';
import { commonErrorResponses, conflictResponse } from './errors';
import { notFound } from '../lib/errors';
import { PageQuerySchema, pageOf, pageSchema } from './pagination';
import { IdParam, iso, jsonBody, jsonResponse, Timestamp, updateSchemaOf } from './schemas';

/**
 * What the handlers here use of Hono's context. zod-openapi types a handler from its route and
 * cannot follow a generic one, so these are typed against their resource instead (its queries,
 * presenter and schema agree) and handed over as plain handlers.
 */
export interface RouteContext<Params, Body = never, Query = never> {
  req: {
    valid(target: 'param'): Params;
    valid(target: 'json'): Body;
    valid(target: 'query'): Query;
  };
  var: AppEnv['Variables'];
  json(body: unknown, status: 200 | 201): Response;
}

export type IdPath = z.output<typeof IdParam>;
type Handler = Parameters<OpenAPIHono<AppEnv>['openapi']>[1];
type RouteRequest = Parameters<typeof createRoute>[0]['request'];
type RouteResponses = Parameters<typeof createRoute>[0]['responses'];

/** What catalog and client resources share: tags, 404 noun, schemas and presenter. */
export interface Resource<S extends z.ZodType, Row> {
  tags: string[];
  /** What a 404 calls an entry, e.g. `one-time product`. */
  noun: string;
  /** The named schema of one entry, and the name of the schema of a page of them. */
  schema: S;
  pageName: string;
  present: (row: Row) => z.infer<S> & { id: string };
  /** Response descriptions, e.g. `The pack`, `A page of packs`. */
  descriptions: { entry: string; page: string };
}

/** A registrar of routes tagged `tags` that answer `status` with `response` or a common error. */
export function routeOf(app: OpenAPIHono<AppEnv>, tags: string[]) {
  return (
    route: { method: 'get' | 'post'; path: string; summary: string; request: RouteRequest },
    status: 200 | 201,
    response: ReturnType<typeof jsonResponse>,
    handler: (c: never) => Promise<Response>,
    more: RouteResponses = {},
  ) => {
    const { method, path, summary, request } = route;
    const responses: RouteResponses = { [status]: response, ...commonErrorResponses, ...more };
    // In the order of the other routers' definitions: the document's keys follow it.
    const definition = { method, path, tags, summary, request, responses };
    app.openapi(createRoute(definition), handler as unknown as Handler);
  };
}

// --- Catalog resources ---

export const IncludeArchivedQuery = z.object({
  includeArchived: z
    .enum(['true', 'false'])
    .default('false')
    .openapi({ description: 'Also list archived entries' }),
});

const ListQuery = PageQuerySchema.extend(IncludeArchivedQuery.shape);

/** The schema of a catalog entry: its fields, then its id, object and timestamps. */
export function catalogEntrySchema<T extends z.ZodRawShape, O extends string>(
  fields: z.ZodObject<T>,
  object: O,
  name: string,
) {
  return fields
    .extend({
      id: z.string(),
      object: z.literal(object),
      archivedAt: Timestamp.nullable(),
      createdAt: Timestamp,
      updatedAt: Timestamp,
    })
    .openapi(name);
}

type Stamps = 'archivedAt' | 'createdAt' | 'updatedAt';

/** A catalog entry as the API shows it: `object` first, timestamps as ISO strings. */
export function presentCatalogEntry<
  O extends string,
  R extends { archivedAt: Date | null; createdAt: Date; updatedAt: Date },
>(
  object: O,
  row: R,
): { object: O } & Omit<R, Stamps> & {
    archivedAt: string | null;
    createdAt: string;
    updatedAt: string;
  } {
  return {
    object,
    ...row,
    archivedAt: iso(row.archivedAt),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export type CatalogResource<F extends z.ZodObject, S extends z.ZodType, Row> = Resource<S, Row> & {
  /** The collection's path, e.g. `/packs`; an entry is `{path}/{id}`. */
  path: `/${string}`;
  idPrefix: IdPrefix;
  /** The create body. */
  fields: F;
  descriptions: { entry: string; page: string; archived: string };
  queries: {
    insert(sql: AnySql, agencyId: string, id: string, input: z.output<F>): Promise<Row>;
    list(
      sql: AnySql,
      f: { agencyId: string; includeArchived: boolean; after?: string | undefined; limit: number },
    ): Promise<Row[]>;
    get(sql: AnySql, agencyId: string, id: string): Promise<Row | null>;
    archive(sql: AnySql, agencyId: string, id: string): Promise<Row | null>;
    /** Needed by the standard update only. */
    update?(
      sql: AnySql,
      agencyId: string,
      id: string,
      changes: Partial<z.output<F>>,
    ): Promise<Row | null>;
  };
};

/** Registrars of the standard routes of catalog resource `r` on `app`, given their summaries. */
export function catalogRoutes<F extends z.ZodObject, S extends z.ZodType, Row>(
  app: OpenAPIHono<AppEnv>,
  r: CatalogResource<F, S, Row>,
) {
  const { noun, present, queries } = r;
  const route = routeOf(app, r.tags);
  const one = jsonResponse(r.schema, r.descriptions.entry);
  const byId = (
    summary: string,
    method: 'get' | 'post',
    path: string,
    response: ReturnType<typeof jsonResponse>,
    query: (sql: AnySql, agencyId: string, id: string) => Promise<Row | null>,
  ) =>
    route(
      { method, path, summary, request: { params: IdParam } },
      200,
      response,
      async (c: RouteContext<IdPath>) => {
        const { id } = c.req.valid('param');
        const row = await query(c.var.deps.sql, c.var.agencyId, id);
        if (!row) throw notFound(noun, id);
        return c.json(present(row), 200);
      },
    );

  return {
    /** POST {path}: `check` may refuse the body (naming the field) or normalize it. */
    create(summary: string, check: (body: z.output<F>) => z.output<F> = (body) => body) {
      route(
        { method: 'post', path: r.path, summary, request: { body: jsonBody(r.fields) } },
        201,
        one,
        async (c: RouteContext<IdPath, z.output<F>>) => {
          const body = check(c.req.valid('json'));
          const row = await queries.insert(c.var.deps.sql, c.var.agencyId, newId(r.idPrefix), body);
          return c.json(present(row), 201);
        },
      );
    },

    list(summary: string) {
      route(
        { method: 'get', path: r.path, summary, request: { query: ListQuery } },
        200,
        jsonResponse(pageSchema(r.schema, r.pageName), r.descriptions.page),
        async (c: RouteContext<IdPath, never, z.output<typeof ListQuery>>) => {
          const q = c.req.valid('query');
          const rows = await queries.list(c.var.deps.sql, {
            agencyId: c.var.agencyId,
            includeArchived: q.includeArchived === 'true',
            after: q.after,
            limit: q.limit,
          });
          return c.json(pageOf(rows.map(present), q.limit), 200);
        },
      );
    },

    get: (summary: string) => byId(summary, 'get', `${r.path}/{id}`, one, queries.get),

    /**
     * PATCH {path}/{id}: changes the fields given. With `check`, the entry is read and updated in
     * one transaction, and `check` may refuse the change given the entry as it is (a 409 when it
     * conflicts with how the entry is used).
     */
    update(
      summary: string,
      check?: (
        tx: AnySql,
        agencyId: string,
        current: Row,
        body: Partial<z.output<F>>,
      ) => Promise<void>,
    ) {
      const update = queries.update!;
      app.openapi(
        createRoute({
          method: 'patch',
          path: `${r.path}/{id}`,
          tags: r.tags,
          summary,
          request: { params: IdParam, body: jsonBody(updateSchemaOf(r.fields)) },
          responses: { 200: one, ...commonErrorResponses, ...(check ? conflictResponse : {}) },
        }),
        (async (c: RouteContext<IdPath, Partial<z.output<F>>>) => {
          const { id } = c.req.valid('param');
          const body = c.req.valid('json');
          const { agencyId } = c.var;
          const { sql } = c.var.deps;
          const row = check
            ? ((await sql.begin(async (tx) => {
                const current = await queries.get(tx, agencyId, id);
                if (!current) throw notFound(noun, id);
                await check(tx, agencyId, current, body);
                return update(tx, agencyId, id, body);
              })) as Row | null)
            : await update(sql, agencyId, id, body);
          if (!row) throw notFound(noun, id);
          return c.json(present(row), 200);
        }) as unknown as Handler,
      );
    },
    archive: (summary: string) =>
      byId(
        summary,
        'post',
        `${r.path}/{id}/archive`,
        jsonResponse(r.schema, r.descriptions.archived),
        queries.archive,
      ),
  };
}
