/**
 * The routes every agency catalog resource has (plans, packs, coupons, one-time products):
 * create, list (active only unless includeArchived), get, update and archive. Each is
 * registered by its own call, so a router keeps a route that behaves differently explicit and
 * in its place (the order of registration is the order of the OpenAPI document).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AnySql } from '../../db/client';
import { newId, type IdPrefix } from '../../lib/ids';
import type { AppEnv } from '../context';
import { commonErrorResponses, notFound } from '../errors';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { IdParam, iso, jsonBody, jsonResponse, Timestamp, updateSchemaOf } from '../schemas';

export const IncludeArchivedQuery = z.object({
  includeArchived: z
    .enum(['true', 'false'])
    .default('false')
    .openapi({ description: 'Also list archived entries' }),
});

const ListQuery = PageQuerySchema.extend(IncludeArchivedQuery.shape);

/** The response schema of an entry: its fields, then its id, object and timestamps. */
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

interface CatalogRow {
  id: string;
  archivedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

type Presented<O extends string, R extends CatalogRow> = { object: O } & Omit<
  R,
  'archivedAt' | 'createdAt' | 'updatedAt'
> & { archivedAt: string | null; createdAt: string; updatedAt: string };

/** An entry as the API shows it: `object` first, timestamps as ISO strings. */
export function presentCatalogEntry<O extends string, R extends CatalogRow>(
  object: O,
  row: R,
): Presented<O, R> {
  return {
    object,
    ...row,
    archivedAt: iso(row.archivedAt),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export interface CatalogResource<F extends z.ZodObject, S extends z.ZodType, Row> {
  /** The collection's path, e.g. `/packs`; an entry is `{path}/{id}`. */
  path: `/${string}`;
  tags: string[];
  /** What a 404 calls an entry, e.g. `one-time product`. */
  noun: string;
  idPrefix: IdPrefix;
  /** The create body; the update body is `updateSchemaOf(fields)`. */
  fields: F;
  /** The named schema of one entry, and the name of the schema of a page of them. */
  schema: S;
  pageName: string;
  present: (row: Row) => z.infer<S> & { id: string };
  /** Response descriptions, e.g. `The pack`, `A page of packs`, `The archived pack`. */
  descriptions: { entry: string; page: string; archived: string };
  queries: {
    insert(sql: AnySql, agencyId: string, id: string, input: z.output<F>): Promise<Row>;
    list(
      sql: AnySql,
      f: { agencyId: string; includeArchived: boolean; after?: string | undefined; limit: number },
    ): Promise<Row[]>;
    get(sql: AnySql, agencyId: string, id: string): Promise<Row | null>;
    archive(sql: AnySql, agencyId: string, id: string): Promise<Row | null>;
  };
}

/** The update body of a resource: every field optional, no defaults, unknown fields refused. */
type UpdateInput<F extends z.ZodObject> = z.output<ReturnType<typeof updateSchemaOf<F['shape']>>>;

/** What the handlers below use of Hono's context, with their validated inputs. */
interface CatalogContext<Body = never, Query = never> {
  req: {
    valid(target: 'json'): Body;
    valid(target: 'query'): Query;
    valid(target: 'param'): z.output<typeof IdParam>;
  };
  var: AppEnv['Variables'];
  json(body: unknown, status: 200 | 201): Response;
}

/**
 * Registrars of the standard routes of `r` on `app`, one per route, each given its summary.
 * The handlers are typed against `r` (queries, presenter and schema agree); zod-openapi cannot
 * follow a generic route's response type, so they are handed to it as plain handlers.
 */
export function catalogRoutes<F extends z.ZodObject, S extends z.ZodType, Row>(
  app: OpenAPIHono<AppEnv>,
  r: CatalogResource<F, S, Row>,
) {
  const { tags, noun, present, queries } = r;
  const entry = `${r.path}/{id}`;
  const one = jsonResponse(r.schema, r.descriptions.entry);
  // zod-openapi types a handler's response from its route; a generic route defeats that.
  type Handler = Parameters<OpenAPIHono<AppEnv>['openapi']>[1];
  const openapi = <R extends Parameters<typeof createRoute>[0]>(route: R, handler: unknown) =>
    app.openapi(createRoute(route), handler as Handler);

  return {
    /** POST {path}: `check` may refuse the body (naming the field) or normalize it. */
    create(summary: string, check: (body: z.output<F>) => z.output<F> = (body) => body) {
      openapi(
        {
          method: 'post',
          path: r.path,
          tags,
          summary,
          request: { body: jsonBody(r.fields) },
          responses: { 201: one, ...commonErrorResponses },
        },
        async (c: CatalogContext<z.output<F>>) => {
          const body = check(c.req.valid('json'));
          const row = await queries.insert(c.var.deps.sql, c.var.agencyId, newId(r.idPrefix), body);
          return c.json(present(row), 201);
        },
      );
    },

    list(summary: string) {
      openapi(
        {
          method: 'get',
          path: r.path,
          tags,
          summary,
          request: { query: ListQuery },
          responses: {
            200: jsonResponse(pageSchema(r.schema, r.pageName), r.descriptions.page),
            ...commonErrorResponses,
          },
        },
        async (c: CatalogContext<never, z.output<typeof ListQuery>>) => {
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

    get(summary: string) {
      openapi(
        {
          method: 'get',
          path: entry,
          tags,
          summary,
          request: { params: IdParam },
          responses: { 200: one, ...commonErrorResponses },
        },
        async (c: CatalogContext) => {
          const { id } = c.req.valid('param');
          const row = await queries.get(c.var.deps.sql, c.var.agencyId, id);
          if (!row) throw notFound(noun, id);
          return c.json(present(row), 200);
        },
      );
    },

    /** PATCH {path}/{id} with `updateSchemaOf(fields)`, written by `update` as it is. */
    update(
      summary: string,
      update: (
        sql: AnySql,
        agencyId: string,
        id: string,
        changes: UpdateInput<F>,
      ) => Promise<Row | null>,
    ) {
      openapi(
        {
          method: 'patch',
          path: entry,
          tags,
          summary,
          request: { params: IdParam, body: jsonBody(updateSchemaOf(r.fields)) },
          responses: { 200: one, ...commonErrorResponses },
        },
        async (c: CatalogContext<UpdateInput<F>>) => {
          const { id } = c.req.valid('param');
          const row = await update(c.var.deps.sql, c.var.agencyId, id, c.req.valid('json'));
          if (!row) throw notFound(noun, id);
          return c.json(present(row), 200);
        },
      );
    },

    archive(summary: string) {
      openapi(
        {
          method: 'post',
          path: `${entry}/archive`,
          tags,
          summary,
          request: { params: IdParam },
          responses: {
            200: jsonResponse(r.schema, r.descriptions.archived),
            ...commonErrorResponses,
          },
        },
        async (c: CatalogContext) => {
          const { id } = c.req.valid('param');
          const row = await queries.archive(c.var.deps.sql, c.var.agencyId, id);
          if (!row) throw notFound(noun, id);
          return c.json(present(row), 200);
        },
      );
    },
  };
}
