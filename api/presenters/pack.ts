/** The pack resource as the API shows it: the catalog routes and the client's pack list share it. */
import { z } from '@hono/zod-openapi';
import type { PackRow } from '../../db/queries/packs';
import { catalogEntrySchema, presentCatalogEntry } from '../resource-routes';
import { Currency, MinorAmount } from '../schemas';

export const PackFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  minutes: z
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .openapi({ description: 'Minutes credited to the client\u2019s wallet' }),
  priceMinor: MinorAmount,
  currency: Currency,
});

export const PackSchema = catalogEntrySchema(PackFieldsSchema, 'pack', 'Pack');

export const presentPack = (p: PackRow) => presentCatalogEntry('pack', p);
