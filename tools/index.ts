// Tool provisioning for dev and tests: where to find (or how to build) the external binaries
// Tally runs next to Node. See cli.ts for the `npm run tools` entry point.
export { cacheDir, ToolUnavailableError } from './common';
export { devServerExecutable, ensureTemporalCli, TEMPORAL_CLI_VERSION } from './temporal-cli';
export { ensureStripeMock } from './stripe-mock';
export { ensureTestServer, testServerExecutable, TEST_SERVER_VERSION } from './test-server';
export { CHROMIUM_HELP, ensureChromium, findChromium } from './chromium';
