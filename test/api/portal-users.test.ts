/** Client portal users with the manage_billing permission. */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../helpers/api';

const { api } = useTestApi();

const newClient = async () => (await api.call('POST', '/v1/clients', { name: 'Client' })).body;
const invite = (clientId: string, body: Record<string, unknown>) =>
  api.call('POST', `/v1/clients/${clientId}/portal-users`, body);

describe('POST /v1/clients/{id}/portal-users', () => {
  it('invites a user with manage_billing, email in lower case', async () => {
    const client = await newClient();
    const res = await invite(client.id, { email: 'Owner@Dental.Example' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'portal_user',
      clientId: client.id,
      email: 'owner@dental.example',
      permissions: ['manage_billing'],
    });
  });

  it('names bad fields; 409 for the same email twice on one client', async () => {
    const client = await newClient();
    for (const [body, field] of [
      [{ email: 'nope' }, 'email'],
      [{ email: 'a@b.example', permissions: ['change_plans'] }, 'permissions.0'],
      [{ email: 'a@b.example', permissions: [] }, 'permissions'],
    ] as const) {
      const res = await invite(client.id, body);
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe(field);
    }
    await invite(client.id, { email: 'twice@x.example' });
    const dup = await invite(client.id, { email: 'TWICE@x.example' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.details[0].field).toBe('email');
    // The same person may see another client's billing.
    expect((await invite((await newClient()).id, { email: 'twice@x.example' })).status).toBe(201);
  });

  it('answers 404 for an unknown client', async () => {
    expect((await invite('cli_missing', { email: 'a@b.example' })).status).toBe(404);
  });
});

describe('GET /v1/clients/{id}/portal-users and /portal-users/{userId}', () => {
  it('lists the client\u2019s users only, and gets one', async () => {
    const [mine, theirs] = [await newClient(), await newClient()];
    const a = (await invite(mine.id, { email: 'a@x.example' })).body;
    const b = (await invite(mine.id, { email: 'b@x.example' })).body;
    await invite(theirs.id, { email: 'c@x.example' });
    const list = await api.call('GET', `/v1/clients/${mine.id}/portal-users`);
    expect(list.body.data.map((u: any) => u.id)).toEqual([b.id, a.id]);
    expect((await api.call('GET', `/v1/clients/${mine.id}/portal-users/${a.id}`)).body).toEqual(a);
    expect((await api.call('GET', `/v1/clients/${theirs.id}/portal-users/${a.id}`)).status).toBe(
      404,
    );
  });

  it('answers 404 for an unknown client or user', async () => {
    const client = await newClient();
    expect((await api.call('GET', '/v1/clients/cli_missing/portal-users')).status).toBe(404);
    expect(
      (await api.call('GET', `/v1/clients/${client.id}/portal-users/usr_missing`)).status,
    ).toBe(404);
  });
});

describe('DELETE /v1/clients/{id}/portal-users/{userId}', () => {
  it('removes a user, once', async () => {
    const client = await newClient();
    const user = (await invite(client.id, { email: 'gone@x.example' })).body;
    const path = `/v1/clients/${client.id}/portal-users/${user.id}`;
    expect((await api.call('DELETE', path)).status).toBe(204);
    expect((await api.call('GET', path)).status).toBe(404);
    expect((await api.call('DELETE', path)).status).toBe(404);
  });
});
