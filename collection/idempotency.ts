/**
 * Idempotency keys for collectors' outside calls. A key is derived from the request and the step
 * alone (never from the attempt or the clock), so every retry of a presentation sends the same
 * key and the provider does the step once.
 */

const STEP = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** The key for one step (e.g. "invoice.create") of presenting one request, stable across retries. */
export function collectionKey(requestId: string, step: string): string {
  if (!requestId) throw new Error('collectionKey needs a request id');
  if (!STEP.test(step))
    throw new Error(`collection step ${JSON.stringify(step)} is not a step name`);
  return `collect:${requestId}:${step}`;
}
