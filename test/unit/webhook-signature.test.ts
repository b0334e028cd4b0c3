/** Webhook signatures: HMAC-SHA256 over `${t}.${body}`, verified in constant time with a tolerance. */
import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { signatureHeader, verifySignature } from '../../activities/webhook-signature';

const secret = 'whsec_test';
const body = '{"id":"evt_1","type":"campaigns.paused"}';

describe('webhook signatures', () => {
  it('signs t.body with HMAC-SHA256, as documented for receivers', () => {
    const header = signatureHeader(secret, 1_800_000_000, body);
    const expected = createHmac('sha256', secret).update(`1800000000.${body}`).digest('hex');
    expect(header).toBe(`t=1800000000,v1=${expected}`);
  });

  it('verifies a fresh signature and refuses a tampered body, another secret or an old timestamp', () => {
    const t = 1_800_000_000;
    const header = signatureHeader(secret, t, body);
    expect(verifySignature(secret, header, body, { nowSeconds: t + 10 })).toBe(true);
    expect(
      verifySignature(secret, header, body.replace('paused', 'resumed'), { nowSeconds: t }),
    ).toBe(false);
    expect(verifySignature('whsec_other', header, body, { nowSeconds: t })).toBe(false);
    expect(verifySignature(secret, header, body, { nowSeconds: t + 301 })).toBe(false);
    expect(verifySignature(secret, 'garbage', body, { nowSeconds: t })).toBe(false);
    expect(verifySignature(secret, undefined, body, { nowSeconds: t })).toBe(false);
  });
});
