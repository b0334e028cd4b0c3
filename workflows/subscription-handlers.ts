/**
 * The subscription workflow's query, updates and signal. Validators refuse a bad request before
 * it reaches history, with a type from the Rejection table (workflows/definitions), which the
 * API maps to its HTTP error. Handlers change the entity, then answer once the change is stored.
 */
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { isRate } from '../billing/money';
import type { AppliedCoupon } from '../billing/terms';
import { workflowNowMs } from './clock';
import {
  Rejection,
  cancelUpdate,
  changeTermsUpdate,
  recordPaymentUpdate,
  setCouponUpdate,
  stateQuery,
  usageSignal,
  type RejectionType,
} from './definitions';
import type { SubscriptionEntity } from './subscription-entity';
import { toView } from './subscription-view';

const rejection = (type: RejectionType, message: string) =>
  ApplicationFailure.create({ type, message });

/**
 * The renewal runs in the workflow task in which its period ends (a local activity). An update
 * that changes what it bills (payment, cancel, change, coupon) and lands in that task would
 * race it, so it is refused for that moment; the API retries it a moment later.
 */
function assertNotRenewing(sub: SubscriptionEntity): void {
  if (sub.state.status !== 'canceled' && workflowNowMs() >= sub.state.periodEndMs)
    throw rejection(
      Rejection.RenewalInProgress,
      'the subscription is renewing; try again in a moment',
    );
}

/** Registers every handler of the subscription workflow on `sub`. */
export function registerHandlers(sub: SubscriptionEntity): void {
  const { state, commits } = sub;
  const view = () => toView(sub.input, sub.state, workflowNowMs());

  setHandler(stateQuery, view);

  setHandler(
    recordPaymentUpdate,
    async (payment) => {
      const req = sub.recordPayment(payment);
      await commits.stored(sub.changed());
      return { ...req };
    },
    {
      validator: ({ requestId, status }) => {
        assertNotRenewing(sub);
        if (state.status === 'canceled')
          throw rejection(Rejection.SubscriptionCanceled, 'the subscription is canceled');
        if (!['paid', 'failed', 'canceled'].includes(status))
          throw rejection(Rejection.InvalidStatus, 'status must be paid, failed or canceled');
        const req = state.openRequests.find((r) => r.id === requestId);
        if (!req)
          throw rejection(
            Rejection.RequestNotOpen,
            `payment request ${requestId} is not open on this subscription`,
          );
        if (req.status === status)
          throw rejection(
            Rejection.InvalidTransition,
            `payment request ${requestId} is already ${status}`,
          );
      },
    },
  );

  setHandler(
    cancelUpdate,
    async (request) => {
      if (sub.requestCancel(request)) await commits.stored(sub.changed());
      else await condition(() => sub.run.ended);
      return view();
    },
    {
      validator: (request) => {
        assertNotRenewing(sub);
        if (sub.canceling)
          throw rejection(Rejection.SubscriptionCanceled, 'the subscription is already canceled');
        if (request.when !== 'now' && request.when !== 'period_end')
          throw rejection(Rejection.InvalidCancel, 'when must be now or period_end');
      },
    },
  );

  setHandler(
    changeTermsUpdate,
    async (change) => {
      const { answer, store } = sub.changeTerms(change);
      if (store) await commits.stored(sub.changed());
      return answer;
    },
    {
      validator: ({ terms, rateMinorPerMinute }) => {
        assertNotRenewing(sub);
        if (sub.canceling)
          throw rejection(Rejection.SubscriptionCanceled, 'the subscription is canceled');
        if (state.status === 'blocked')
          throw rejection(
            Rejection.SubscriptionBlocked,
            'a blocked subscription cannot change: cancel it and start a new one',
          );
        if (terms === undefined && rateMinorPerMinute === undefined)
          throw rejection(Rejection.InvalidChange, 'give a plan or a rate to change');
        if (rateMinorPerMinute != null && !isRate(rateMinorPerMinute))
          throw rejection(Rejection.InvalidRate, 'rateMinorPerMinute must be a decimal string');
        if (terms && terms.currency !== state.terms.currency)
          throw rejection(
            Rejection.CurrencyMismatch,
            `a plan switch must keep the currency ${state.terms.currency}`,
          );
      },
    },
  );

  setHandler(
    setCouponUpdate,
    async (coupon: AppliedCoupon | null) => {
      sub.setCoupon(coupon);
      await commits.stored(sub.changed());
      return coupon;
    },
    {
      validator: (coupon: AppliedCoupon | null) => {
        assertNotRenewing(sub);
        if (sub.canceling)
          throw rejection(Rejection.SubscriptionCanceled, 'the subscription is canceled');
        if (coupon && coupon.remaining !== null && coupon.remaining < 1)
          throw rejection(Rejection.InvalidCoupon, 'a coupon must have periods left');
      },
    },
  );

  setHandler(usageSignal, ({ throughSeq, live }) => sub.usageSignaled(throughSeq, live));
}
