// Step 5 of the lookup order. The Temporal SDK can download the dev server (Temporal CLI) and the
// time-skipping test server itself (`{ type: 'cached-download' }`), but only with internet
// access to its download host. We probe that host rather than assume, so an offline machine gets
// a clear "install Go / Maven" error instead of an SDK download that fails later with a
// confusing network error.
import { log } from './common';

// The host sdk-core downloads from (see core-bridge/sdk-core ephemeral_server).
const SDK_DOWNLOAD_URL = 'https://temporal.download/';
const PROBE_TIMEOUT_MS = 3_000;

let probe: Promise<boolean> | undefined;

/** True if the SDK's download host answers at all (any HTTP status counts). Cached per process. */
export function sdkCanDownload(): Promise<boolean> {
  probe ??= fetch(SDK_DOWNLOAD_URL, {
    method: 'HEAD',
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  })
    .then(() => true)
    .catch(() => false)
    .then((online) => {
      log('sdk-download', online ? 'download host reachable' : 'download host not reachable');
      return online;
    });
  return probe;
}
