import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../lib/errors';
import { SubscriptionRenewingError } from '../../temporal/rejections';
import { toApiError } from '../../services/workflow-errors';
import { sendWhileRenewing } from '../../temporal/subscription-calls';

const rejected = (type: string) =>
  new WorkflowUpdateFailedError(
    'update failed',
    ApplicationFailure.create({ type, message: type }),
  );

describe('sendWhileRenewing', () => {
  afterEach(() => vi.useRealTimers());

  it('sends again while the workflow is renewing, then answers', async () => {
    vi.useFakeTimers();
    const send = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(rejected('RenewalInProgress'))
      .mockRejectedValueOnce(rejected('RenewalInProgress'))
      .mockResolvedValue('ok');
    const done = sendWhileRenewing(send);
    await vi.runAllTimersAsync();
    await expect(done).resolves.toBe('ok');
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('gives up after seven attempts (the API answers 503 unavailable)', async () => {
    vi.useFakeTimers();
    const send = vi.fn<() => Promise<string>>().mockRejectedValue(rejected('RenewalInProgress'));
    const done = sendWhileRenewing(send).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const err = await done;
    expect(err).toBeInstanceOf(SubscriptionRenewingError);
    expect(send).toHaveBeenCalledTimes(7);
    expect(() => toApiError(err)).toThrow(
      expect.objectContaining({ code: 'unavailable', message: (err as Error).message }),
    );
  });

  it('passes any other rejection through at once', async () => {
    const other = rejected('SubscriptionCanceled');
    const send = vi.fn<() => Promise<string>>().mockRejectedValue(other);
    await expect(sendWhileRenewing(send)).rejects.toBe(other);
    expect(send).toHaveBeenCalledTimes(1);
  });
});

describe('toApiError', () => {
  it('rethrows an ApiError unchanged', () => {
    const err = new ApiError('unavailable', 'renewing');
    expect(() => toApiError(err)).toThrow(err);
  });
});
