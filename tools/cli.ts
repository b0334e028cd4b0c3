// `npm run tools [temporal|test-server|stripe-mock|chromium|all]`: provisions the tools and prints
// `name<TAB>path` per tool on stdout (progress goes to stderr), so scripts can do
//   TEMPORAL=$(npm run -s tools temporal | cut -f2)
import { ToolUnavailableError } from './common';
import { ensureChromium } from './chromium';
import { ensureStripeMock } from './stripe-mock';
import { ensureTemporalCli } from './temporal-cli';
import { ensureTestServer } from './test-server';

const TOOLS: Record<string, () => Promise<string>> = {
  temporal: ensureTemporalCli,
  'test-server': ensureTestServer,
  'stripe-mock': ensureStripeMock,
  chromium: ensureChromium,
};

async function main(argv: readonly string[]): Promise<number> {
  const requested = argv.length === 0 || argv.includes('all') ? Object.keys(TOOLS) : [...argv];
  const unknown = requested.filter((name) => !(name in TOOLS));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown tool: ${unknown.join(', ')}\nusage: npm run tools [temporal|test-server|stripe-mock|chromium|all]\n`,
    );
    return 2;
  }
  let failed = false;
  // One at a time: the Go builds each want both cores, and interleaved logs are hard to read.
  for (const name of requested) {
    const ensure = TOOLS[name];
    if (!ensure) continue;
    try {
      process.stdout.write(`${name}\t${await ensure()}\n`);
    } catch (err) {
      failed = true;
      const message = err instanceof ToolUnavailableError ? err.message : String(err);
      process.stderr.write(`[tools] ${name}: FAILED\n${message}\n`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
