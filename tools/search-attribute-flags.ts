/**
 * Tally's custom search attributes as `temporal server start-dev` flags, for the dev server of
 * `npm start` and of the benchmarks (the CLI registers them at start; see temporal-cli.ts).
 */
import { SEARCH_ATTRIBUTES } from '../workflows/definitions';

// The CLI spells types in PascalCase. Keyed by our types, so a new type in SEARCH_ATTRIBUTES fails
// to compile here instead of failing at launch.
const CLI_TYPE: Record<(typeof SEARCH_ATTRIBUTES)[keyof typeof SEARCH_ATTRIBUTES], string> = {
  KEYWORD: 'Keyword',
  DATETIME: 'Datetime',
};

/** `--search-attribute Name=Type` for each of Tally's custom search attributes. */
export function searchAttributeFlags(): string[] {
  return Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
    '--search-attribute',
    `${name}=${CLI_TYPE[type]}`,
  ]);
}
