/**
 * Reading why a call into a subscription workflow failed. Its validators throw an
 * ApplicationFailure whose type is one of `Rejection` (workflows/definitions.ts); what each one
 * means to a caller is decided above this seam (services/workflow-errors.ts).
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';

/** The workflow was still renewing after every retry (the API answers 503 unavailable). */
export class SubscriptionRenewingError extends Error {
  constructor() {
    super('the subscription is renewing; try again in a few seconds');
    this.name = 'SubscriptionRenewingError';
  }
}

/** How the workflow refused an update (its type and message), if it did. */
export function rejectionOf(err: unknown): { type: string | null; message: string } | null {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
    return { type: err.cause.type ?? null, message: err.cause.message };
  return null;
}

/** The rejection type of a failed update, if the workflow rejected it. */
export function rejectionType(err: unknown): string | null {
  return rejectionOf(err)?.type ?? null;
}

/** True when the call found no workflow (never started, or ended and gone). */
export function isWorkflowGone(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError;
}
