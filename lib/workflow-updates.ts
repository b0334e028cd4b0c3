/**
 * Sending updates to a subscription workflow, for the API and the worker alike. The workflow's
 * validators reject bad requests before they reach history, as ApplicationFailures with a type;
 * a `RenewalInProgress` rejection only means "a moment later", so it is sent again.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';

/** The workflow was still renewing after every retry (the API answers 503 unavailable). */
export class SubscriptionRenewingError extends Error {
  constructor() {
    super('the subscription is renewing; try again in a few seconds');
    this.name = 'SubscriptionRenewingError';
  }
}

/** The rejection type of a failed update, if the workflow rejected it. */
export function rejectionType(err: unknown): string | null {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? null;
  return null;
}

const RENEWAL_RETRY_MS = [50, 100, 200, 400, 800, 1500];

/**
 * Sends an update, again a moment later while the workflow answers that it is renewing (the
 * renewal takes one workflow task, milliseconds unless the worker is far behind).
 */
export async function sendWhileRenewing<R>(send: () => Promise<R>): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (rejectionType(err) !== 'RenewalInProgress') throw err;
      const wait = RENEWAL_RETRY_MS[attempt];
      if (wait === undefined) throw new SubscriptionRenewingError();
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
