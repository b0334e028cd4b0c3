/**
 * The one place workflow code reads the time. Inside a workflow, Temporal replaces Date with a
 * replay-safe clock (the time of the current workflow task), so this is deterministic; the lint
 * rule forbids Date.now() everywhere else in workflows/ so every read goes through here.
 */
export function workflowNowMs(): number {
  // eslint-disable-next-line no-restricted-syntax -- sanctioned: the SDK's deterministic clock
  return Date.now();
}
