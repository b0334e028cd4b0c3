/**
 * The client portal's pages, rendered on the server with Hono's html helper (every value
 * escaped). Reading needs no JavaScript; the only stylesheet is this server's.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Banner } from '../../billing/portal-banners';
import type { PortalBilling } from '../../services/portal-billing';
import type { Formatter } from './format';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What each subscription status means to the client (the badge's tooltip). */
export const STATUS_MEANING: Record<string, { label: string; meaning: string }> = {
  scheduled: { label: 'Scheduled', meaning: 'Your subscription starts on its start date.' },
  active: { label: 'Active', meaning: 'Your subscription is paid up and running.' },
  past_due: {
    label: 'Past due',
    meaning:
      'A payment is overdue. Campaigns keep running until the grace period ends; pay to return to active.',
  },
  blocked: {
    label: 'Blocked',
    meaning:
      'A payment stayed unpaid past the grace period: campaigns are paused. Contact your agency.',
  },
  canceled: { label: 'Canceled', meaning: 'This subscription has ended.' },
  none: { label: 'No subscription', meaning: 'Your agency has not started a subscription yet.' },
};

const REQUEST_STATUS: Record<string, { label: string; meaning: string }> = {
  pending: { label: 'Pending', meaning: 'Issued and waiting for payment by its due date.' },
  paid: { label: 'Paid', meaning: 'Paid in full.' },
  overdue: { label: 'Overdue', meaning: 'Not paid by its due date.' },
  failed: { label: 'Failed', meaning: 'The payment was attempted and failed.' },
  canceled: { label: 'Canceled', meaning: 'Canceled: nothing is owed for it.' },
};

const TYPE_LABEL: Record<string, string> = {
  cycle: 'Subscription',
  pack: 'Add-on pack',
  one_time: 'One-time',
};

const RHYTHM: Record<string, string> = { day: 'day', week: 'week', month: 'month', year: 'year' };

/** A whole page around `body`. */
export function layout(title: string, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <link rel="stylesheet" href="/portal/assets/portal.css" />
      </head>
      <body>
        ${body}
      </body>
    </html>`;
}

/** A page with one message (a refused link, signed out, not signed in). */
export function messagePage(title: string, message: string): Html {
  return layout(
    title,
    html`<main id="main">
      <section class="message" aria-labelledby="msg-h">
        <h1 id="msg-h">${title}</h1>
        <p>${message}</p>
      </section>
    </main>`,
  );
}

function badge(status: string, table: Record<string, { label: string; meaning: string }>): Html {
  const s = table[status] ?? { label: status, meaning: status };
  return html`<span class="badge badge-${status}" title="${s.meaning}"
    >${s.label}<span class="sr-only">: ${s.meaning}</span></span
  >`;
}

function bannerView(b: Banner, f: Formatter): Html {
  switch (b.kind) {
    case 'blocked':
      return html`<li class="banner banner-danger" data-banner="blocked">
        <strong>Campaigns are paused</strong>Your subscription is blocked because a payment stayed
        unpaid past its grace period. Pay the outstanding balance and contact your agency to resume.
      </li>`;
    case 'past_due':
      return html`<li class="banner banner-warning" data-banner="past_due">
        <strong>Payment past due</strong>A payment is
        overdue.${b.graceEndsAt ? html` Pay by ${f.date(b.graceEndsAt)} to keep your campaigns running.` : ''}
      </li>`;
    case 'payment_failed':
      return html`<li class="banner banner-danger" data-banner="payment_failed">
        <strong>A payment failed</strong>Your last payment attempt did not go through. Your agency
        will try again or contact you.
      </li>`;
    case 'outstanding_balance':
      return html`<li class="banner banner-warning" data-banner="outstanding_balance">
        <strong
          >Outstanding balance:
          ${(b.amounts ?? []).map((a) => f.money(a.amountMinor, a.currency)).join(' + ')}</strong
        >See the payment requests below.
      </li>`;
    case 'minutes_exhausted':
      return html`<li class="banner banner-danger" data-banner="minutes_exhausted">
        <strong>Minutes used up</strong>Your included minutes and wallet are spent, so campaigns are
        paused until minutes are available. Contact your agency for an add-on pack.
      </li>`;
    case 'payment_method_missing':
      return html`<li class="banner banner-info" data-banner="payment_method_missing">
        <strong>Add a payment method</strong>Campaigns start once a card is on file.
      </li>`;
  }
}

function planSection(b: PortalBilling, f: Formatter): Html {
  const sub = b.subscription;
  if (!sub) {
    return html`<section class="card" aria-labelledby="plan-h">
      <h2 id="plan-h">Current plan</h2>
      <p>${badge('none', STATUS_MEANING)}</p>
      <p>Your agency has not started a subscription yet.</p>
    </section>`;
  }
  const t = sub.terms;
  const every =
    t.intervalCount === 1
      ? `per ${RHYTHM[t.rhythm] ?? t.rhythm}`
      : `every ${t.intervalCount} ${RHYTHM[t.rhythm] ?? t.rhythm}s`;
  const rate = t.rateMinorPerMinute ?? t.overageRateMinorPerMinute;
  const period = b.usage;
  return html`<section class="card" aria-labelledby="plan-h">
    <h2 id="plan-h">Current plan</h2>
    <dl class="facts">
      <div>
        <dt>Plan</dt>
        <dd data-field="plan-name">${t.name}</dd>
      </div>
      ${
        t.tier
          ? html`<div>
              <dt>Tier</dt>
              <dd>${t.tier}</dd>
            </div>`
          : ''
      }
      <div>
        <dt>Status</dt>
        <dd data-field="status">${badge(sub.status, STATUS_MEANING)}</dd>
      </div>
      <div>
        <dt>Price</dt>
        <dd data-field="price">${f.money(t.flatFeeMinor, t.currency)} ${every}</dd>
      </div>
      <div>
        <dt>Included minutes</dt>
        <dd>${t.includedMinutes.toLocaleString(f.locale)} ${every}</dd>
      </div>
      ${
        rate
          ? html`<div>
              <dt>Minutes beyond that</dt>
              <dd>${f.rate(rate, t.currency)} per minute</dd>
            </div>`
          : ''
      }
      ${
        period
          ? html`<div>
              <dt>This period</dt>
              <dd data-field="period">${f.date(period.start)} – ${f.date(period.end)}</dd>
            </div>`
          : html`<div>
              <dt>Starts</dt>
              <dd>${f.date(sub.startAt)}</dd>
            </div>`
      }
    </dl>
  </section>`;
}

function usageSection(b: PortalBilling, f: Formatter): Html {
  const u = b.usage;
  const wallet = html`<div>
    <dt>Wallet balance</dt>
    <dd data-field="wallet">
      ${b.walletBalanceMinutes} min <span class="note">(never expires)</span>
    </dd>
  </div>`;
  if (!u) {
    return html`<section class="card" aria-labelledby="usage-h">
      <h2 id="usage-h">Usage this period</h2>
      <p>No period is running.</p>
      <dl class="facts">${wallet}</dl>
    </section>`;
  }
  const pct = Math.min(100, u.includedPercentUsed);
  const chat = u.chatEquivalents;
  return html`<section class="card" aria-labelledby="usage-h">
    <h2 id="usage-h">Usage this period</h2>
    <div class="meter">
      <label for="usage-bar">Included minutes used: ${u.includedPercentUsed}%</label>
      <progress id="usage-bar" class="usage${u.warning ? ' amber' : ''}" max="100" value="${pct}">
        ${u.includedPercentUsed}%
      </progress>
      ${u.warning ? html`<p class="warn-text" data-field="warning">You have used 90% or more of your included minutes.</p>` : ''}
    </div>
    <dl class="facts">
      <div>
        <dt>Used</dt>
        <dd data-field="used">${u.usedMinutes} min</dd>
      </div>
      <div>
        <dt>Included remaining</dt>
        <dd data-field="remaining">
          ${u.includedRemainingMinutes} of ${u.includedMinutes.toLocaleString(f.locale)} min
        </dd>
      </div>
      ${wallet}
      <div>
        <dt>Billable beyond included and wallet</dt>
        <dd data-field="billable">
          ${u.billableMinutes}
          min${u.rateMinorPerMinute ? html` at ${f.rate(u.rateMinorPerMinute, u.currency)}/min = ${f.money(u.billableAmountMinor, u.currency)}` : ''}
        </dd>
      </div>
      ${
        chat
          ? html`<div>
              <dt>In chats (${chat.chatsPerMinute} per minute)</dt>
              <dd>
                ${chat.used.toLocaleString(f.locale)} used,
                ${chat.includedRemaining.toLocaleString(f.locale)} included remaining
              </dd>
            </div>`
          : ''
      }
    </dl>
    ${
      u.perAgent.length > 0
        ? html`<h3>By agent</h3>
            <ul class="plain">
              ${u.perAgent.map(
                (a) =>
                  html`<li class="row">
                    <span>${a.agentName ?? 'No agent'}</span><span>${a.minutes} min</span>
                  </li>`,
              )}
            </ul>`
        : ''
    }
  </section>`;
}

function packsSection(b: PortalBilling, f: Formatter): Html {
  return html`<section class="card" aria-labelledby="packs-h">
    <h2 id="packs-h">Add-on packs</h2>
    ${
      b.packs.length === 0
        ? html`<p>No add-on packs are available to you.</p>`
        : html`<ul class="plain" data-list="packs">
            ${b.packs.map(
              (p) =>
                html`<li class="row">
                  <span>${p.name}: ${p.minutes.toLocaleString(f.locale)} minutes</span
                  ><span>${f.money(p.priceMinor, p.currency)}</span>
                </li>`,
            )}
          </ul>`
    }
    <p class="note">To add a pack, contact your agency.</p>
  </section>`;
}

function requestsSection(b: PortalBilling, f: Formatter): Html {
  if (b.requests.length === 0) {
    return html`<section class="card" aria-labelledby="req-h">
      <h2 id="req-h">Payment requests</h2>
      <p>No payment requests yet.</p>
    </section>`;
  }
  return html`<section class="card" aria-labelledby="req-h">
    <h2 id="req-h">Payment requests</h2>
    ${b.requests.map(({ request: r, lines }) => {
      const number = r.stripeInvoiceNumber;
      return html`<article class="request" data-request="${r.id}" aria-labelledby="h-${r.id}">
        <h3 id="h-${r.id}">
          <span
            >${TYPE_LABEL[r.type] ?? r.type}${number ? ` ${number}` : ''},
            ${f.date(r.issuedAt)}</span
          ><span>${f.money(r.totalMinor, r.currency)} ${badge(r.status, REQUEST_STATUS)}</span>
        </h3>
        <dl class="facts">
          <div>
            <dt>Issued</dt>
            <dd>${f.date(r.issuedAt)}</dd>
          </div>
          <div>
            <dt>Due</dt>
            <dd>${f.date(r.dueAt)}</dd>
          </div>
          ${
            r.graceEndsAt
              ? html`<div>
                  <dt>Grace period ends</dt>
                  <dd>${f.date(r.graceEndsAt)}</dd>
                </div>`
              : ''
          }
          ${
            r.paidAt
              ? html`<div>
                  <dt>Paid</dt>
                  <dd>${f.date(r.paidAt)}</dd>
                </div>`
              : ''
          }
        </dl>
        <table class="lines">
          <caption class="sr-only">
            Lines of this request
          </caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Amount</th>
            </tr>
          </thead>
          <tbody>
            ${lines.map(
              (l) =>
                html`<tr>
                  <td>
                    ${l.description}${l.periodStart && l.periodEnd ? html`<br /><span class="note">${f.date(l.periodStart)} – ${f.date(l.periodEnd)}</span>` : ''}
                  </td>
                  <td>${f.money(l.amountMinor, r.currency)}</td>
                </tr>`,
            )}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">Total</th>
              <td>${f.money(r.totalMinor, r.currency)}</td>
            </tr>
          </tfoot>
        </table>
        <p>
          <a class="button" href="/portal/payment-requests/${r.id}/pdf" download
            >Download PDF<span class="sr-only">
              of ${TYPE_LABEL[r.type] ?? r.type} ${f.date(r.issuedAt)}</span
            ></a
          >
        </p>
      </article>`;
    })}
  </section>`;
}

function cardSection(b: PortalBilling): Html {
  if (b.client.billingMode !== 'stripe') return html``;
  const card = b.card;
  return html`<section class="card" aria-labelledby="pm-h">
    <h2 id="pm-h">Payment method</h2>
    ${card ? html`<p data-field="card">${card.brand.toUpperCase()} ending in ${card.last4}, expires ${String(card.expMonth).padStart(2, '0')}/${card.expYear}</p>` : html`<p>No card on file.</p>`}
  </section>`;
}

/** The billing page of a signed-in portal session. */
export function billingPage(
  b: PortalBilling,
  f: Formatter,
  session: { email: string; csrf: string },
): Html {
  return layout(
    `Billing \u2013 ${b.client.name}`,
    html`<a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <p class="agency" data-field="agency">${b.agency.name}</p>
        <p>Signed in as ${session.email}</p>
        <form method="post" action="/portal/sign-out">
          <input type="hidden" name="csrf" value="${session.csrf}" /><button type="submit">
            Sign out
          </button>
        </form>
      </header>
      <main id="main">
        <h1>Billing for ${b.client.name}</h1>
        ${
          b.banners.length > 0
            ? html`<ul class="banners" aria-label="Notices">
                ${b.banners.map((x) => bannerView(x, f))}
              </ul>`
            : ''
        }
        ${planSection(b, f)} ${usageSection(b, f)} ${packsSection(b, f)} ${requestsSection(b, f)}
        ${cardSection(b)}
      </main>`,
  );
}
