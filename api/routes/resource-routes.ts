/**
 * The routes that are the same for several resources, each registered by its own call so that a
 * router keeps a route that behaves differently explicit and in its place (the order of
 * registration is the order of the OpenAPI document):
 * - an agency catalog resource (plans, packs, coupons, one-time products): create, list (active
 *   only unless includeArchived), get, update and archive;
 * - a client's resource (agents, portal users): list and get under `/clients/{id}/...`.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AnySql } from '../../db/client';
import { getClient } from '../../db/queries/clients';
import { newId, type IdPrefix } from '../../lib/ids';
import type { AppEnv } from '../context';
import { commonErrorResponses, notFound } from '../errors';
import { PageQuerySchema, pageOf, pageSchema } from '../pagination';
import { IdParam, iso, jsonBody, jsonResponse, Timestamp, updateSchemaOf } from '../schemas';

/**
 * What the handlers here use of Hono's context, with their validated inputs. zod-openapi types
 * a handler from its route, which it cannot follow through generics, so these handlers are
 * typed against the resource (its queries, presenter and schema agree) and handed over as such.
 */
interface HandlerContext<Params = z.output<typeof IdParam>, Body = never, Query = never> {
  req: {
    valid(target: 'param'): Params;
    valid(target: 'json'): Body;
    valid(target: 'query'): Query;
  };
  var: AppEnv['Variables'];
  json(body: unknown, status: 200 | 201): Response;
}

type Handler = Parameters<OpenAPIHono<AppEnv>['openapi']>[1];

/** Registers `route` on `app` with a handler typed by `HandlerContext`. */
function register<R extends Parameters<typeof createRoute>[0]>(
  app: OpenAPIHono<AppEnv>,
  route: R,
  handler: (c: never) => Promise<Response>,
) {
  app.openapi(createRoute(route), handler as unknown as Handler);
}

// --- Catalog resources ---

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

/** Registrars of the standard routes of catalog resource `r` on `app`, each given its summary. */
export function catalogRoutes<F extends z.ZodObject, S extends z.ZodType, Row>(
  app: OpenAPIHono<AppEnv>,
  r: CatalogResource<F, S, Row>,
) {
  const { tags, noun, present, queries } = r;
  const entry = `${r.path}/{id}`;
  const one = jsonResponse(r.schema, r.descriptions.entry);

  return {
    /** POST {path}: `check` may refuse the body (naming the field) or normalize it. */
    create(summary: string, check: (body: z.output<F>) => z.output<F> = (body) => body) {
      register(
        app,
        {
          method: 'post',
          path: r.path,
          tags,
          summary,
          request: { body: jsonBody(r.fields) },
          responses: { 201: one, ...commonErrorResponses },
        },
        async (c: HandlerContext<z.output<typeof IdParam>, z.output<F>>) => {
          const body = check(c.req.valid('json'));
          const row = await queries.insert(c.var.deps.sql, c.var.agencyId, newId(r.idPrefix), body);
          return c.json(present(row), 201);
        },
      );
    },

    list(summary: string) {
      register(
        app,
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
        async (c: HandlerContext<never, never, z.output<typeof ListQuery>>) => {
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
      register(
        app,
        {
          method: 'get',
          path: entry,
          tags,
          summary,
          request: { params: IdParam },
          responses: { 200: one, ...commonErrorResponses },
        },
        async (c: HandlerContext) => {
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
      register(
        app,
        {
          method: 'patch',
          path: entry,
          tags,
          summary,
          request: { params: IdParam, body: jsonBody(updateSchemaOf(r.fields)) },
          responses: { 200: one, ...commonErrorResponses },
        },
        async (c: HandlerContext<z.output<typeof IdParam>, UpdateInput<F>>) => {
          const { id } = c.req.valid('param');
          const row = await update(c.var.deps.sql, c.var.agencyId, id, c.req.valid('json'));
          if (!row) throw notFound(noun, id);
          return c.json(present(row), 200);
        },
      );
    },

    archive(summary: string) {
      register(
        app,
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
        async (c: HandlerContext) => {
          const { id } = c.req.valid('param');
          const row = await queries.archive(c.var.deps.sql, c.var.agencyId, id);
          if (!row) throw notFound(noun, id);
          return c.json(present(row), 200);
        },
      );
    },
  };
}

// --- A client's resources ---

/** Path parameters of one of a client's resources: the client's `id` and the resource's own. */
export function clientResourceParams<K extends string>(param: K) {
  const own = z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: param, in: 'path' } });
  return IdParam.extend({ [param]: own } as Record<K, typeof own>);
}

/** The client, or a 404 naming it. */
export async function requireClient(sql: AnySql, agencyId: string, id: string) {
  const client = await getClient(sql, agencyId, id);
  if (!client) throw notFound('client', id);
  return client;
}

export interface ClientResource<K extends string, S extends z.ZodType, Row> {
  /** The collection's path, e.g. `/clients/{id}/agents`; an entry is `{path}/{<param>}`. */
  path: `/clients/{id}/${string}`;
  /** The entry's path parameter, e.g. `agentId`. */
  param: K;
  tags: string[];
  /** What a 404 calls an entry, e.g. `portal user`. */
  noun: string;
  /** The named schema of one entry, and the name of the schema of a page of them. */
  schema: S;
  pageName: string;
  present: (row: Row) => z.infer<S> & { id: string };
  /** Response descriptions, e.g. `The agent`, `A page of agents`. */
  descriptions: { entry: string; page: string };
  queries: {
    list(
      sql: AnySql,
      f: { agencyId: string; clientId: string; after?: string | undefined; limit: number },
    ): Promise<Row[]>;
    get(sql: AnySql, agencyId: string, clientId: string, id: string): Promise<Row | null>;
  };
}

/** Registrars of the standard routes of a client's resource `r` on `app`. */
export function clientResourceRoutes<K extends string, S extends z.ZodType, Row>(
  app: OpenAPIHono<AppEnv>,
  r: ClientResource<K, S, Row>,
) {
  const { tags, noun, present, queries } = r;
  const params = clientResourceParams(r.param);

  return {
    /** GET {path}: 404 when the client is not the agency's. */
    list(summary: string) {
      register(
        app,
        {
          method: 'get',
          path: r.path,
          tags,
          summary,
          request: { params: IdParam, query: PageQuerySchema },
          responses: {
            200: jsonResponse(pageSchema(r.schema, r.pageName), r.descriptions.page),
            ...commonErrorResponses,
          },
        },
        async (
          c: HandlerContext<z.output<typeof IdParam>, never, z.output<typeof PageQuerySchema>>,
        ) => {
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
      register(
        app,
        {
          method: 'get',
          path: `${r.path}/{${r.param}}`,
          tags,
          summary,
          request: { params },
          responses: {
            200: jsonResponse(r.schema, r.descriptions.entry),
            ...commonErrorResponses,
          },
        },
        async (c: HandlerContext<{ id: string } & Record<K, string>>) => {
          const path = c.req.valid('param');
          const id = path[r.param];
          const row = await queries.get(c.var.deps.sql, c.var.agencyId, path.id, id);
          if (!row) throw notFound(noun, id);
          return c.json(present(row), 200);
        },
      );
    },
  };
}
