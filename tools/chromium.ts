// Chromium for the browser tests: Debian's package, never a browser download. Lookup is
// `$TALLY_CHROMIUM`, then `chromium` / `chromium-browser` on PATH; `ensureChromium` installs the
// Debian package with apt-get (progress echoed) when none is found and we are allowed to.
import { findOnPath, fromEnv, log, ToolUnavailableError } from './common';
import { runWithProgress } from './run-with-progress';

const ENV_VAR = 'TALLY_CHROMIUM';
const NAMES = ['chromium', 'chromium-browser'];

/** How to get it, for every message that says it is missing. */
export const CHROMIUM_HELP =
  'Chromium is needed for the browser tests (test/browser). Install Debian\u2019s package with ' +
  '`npm run tools -- chromium` (runs `apt-get install chromium` as root), or ' +
  '`sudo apt-get install chromium`, or set TALLY_CHROMIUM to a Chromium executable.';

/** The Chromium executable, or undefined when none is installed. Never installs. */
export async function findChromium(): Promise<string | undefined> {
  const explicit = await fromEnv(ENV_VAR, 'chromium');
  if (explicit) return explicit;
  for (const name of NAMES) {
    const found = await findOnPath(name);
    if (found) return found;
  }
  return undefined;
}

/** The Chromium executable; installs Debian's `chromium` with apt-get when it is missing. */
export async function ensureChromium(): Promise<string> {
  const found = await findChromium();
  if (found) return found;
  const apt = await findOnPath('apt-get');
  if (!apt)
    throw new ToolUnavailableError(`no chromium found and no apt-get here. ${CHROMIUM_HELP}`);
  if (process.getuid?.() !== 0) {
    throw new ToolUnavailableError(
      `no chromium found; installing it needs root (sudo apt-get install chromium). ${CHROMIUM_HELP}`,
    );
  }
  log('chromium', 'not found; installing Debian\u2019s chromium package with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runWithProgress('chromium', apt, ['update'], { env });
  await runWithProgress('chromium', apt, ['install', '-y', '--no-install-recommends', 'chromium'], {
    env,
  });
  const installed = await findChromium();
  if (!installed)
    throw new ToolUnavailableError(
      `apt-get installed chromium but it is not on PATH. ${CHROMIUM_HELP}`,
    );
  return installed;
}
