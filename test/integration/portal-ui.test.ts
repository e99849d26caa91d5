import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, ensurePortalBuilt, launchChromium, screenshot, watchPage } from '../support/browser';
import { Receiver, waitFor } from '../support/receiver';
import { startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * The customer portal in a real browser against a real stack: the page built from src/portal, served
 * by the API under its CSP, driven the way a customer would, with every screen saved as a screenshot
 * in test-artifacts/portal/.
 */
const XSS_BODY = '<img src=x onerror=window.__xss=1>';
/** A receiver credential the customer gives once: the page never shows it again. */
const CREDENTIAL = 'Bearer acme-live-7f3a9c';
const VIEWPORT = { width: 1280, height: 800 };

let stack: TestStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let seen: ReturnType<typeof watchPage>;
let receiver: Receiver;
let platform: Server;
let platformOrigin: string;
let sessionUrl: string;
const tenantId = uniqueTenant('portal');
let endpointId: string;

/** The platform's own app, which embeds the portal: an origin other than the API's. */
async function startPlatformApp(): Promise<Server> {
  const server = createServer((req, res) => {
    const src = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><html lang="en"><head><title>Acme app</title></head><body><h1>Acme app</h1><iframe title="Webhooks" src="${src.replace(/"/g, '&quot;')}" width="1200" height="700"></iframe></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function openSession(body: Record<string, unknown>): Promise<string> {
  const r = await stack.request('POST', '/portal/sessions', body);
  expect(r.status).toBe(201);
  return r.body.url;
}

beforeAll(async () => {
  ensurePortalBuilt();
  platform = await startPlatformApp();
  // localhost, not 127.0.0.1: another origin than the API's even on the same machine.
  platformOrigin = `http://localhost:${(platform.address() as AddressInfo).port}`;
  stack = await startTestStack({ PORTAL_FRAME_ANCESTORS: `'self' ${platformOrigin}` });
  receiver = await Receiver.start();
  for (const [name, description, schema] of [
    ['invoice.paid', 'An invoice was paid in full.', { type: 'object', properties: { invoiceId: { type: 'string', example: 'inv_1042' }, amount: { type: 'integer', example: 4200 }, currency: { type: 'string', enum: ['EUR', 'USD'] } }, required: ['invoiceId', 'amount'] }],
    ['sync.completed', 'A data sync finished.', { type: 'object', properties: { syncId: { type: 'string' }, rows: { type: 'integer' } } }],
  ] as const) {
    expect((await stack.request('PUT', `/event-types/${name}`, { description, schema })).status).toBe(201);
  }
  sessionUrl = await openSession({ tenantId, theme: { name: 'Acme Cloud', primaryColor: '#0f766e' } });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: VIEWPORT });
  page = await context.newPage();
  seen = watchPage(page);
});

// A step that failed with a dialog open would leave it over the page for every later step.
afterEach(async () => {
  if (await page?.locator('dialog[open]').count()) await page.keyboard.press('Escape');
});

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await new Promise((resolve) => platform?.close(resolve));
  await stack?.stop();
});

describe('customer portal in Chromium', () => {
  it('opens from the session URL, drops the token from the address bar, and shows the brand', async () => {
    expect(sessionUrl).toMatch(/\/portal#token=hfp_/);
    await page.goto(sessionUrl);
    await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    expect(page.url()).not.toContain('hfp_');
    expect(page.url()).not.toContain('#');
    await page.getByText('Acme Cloud').waitFor();
    const accent = await page.locator('.radix-themes').first().evaluate((el) => (globalThis as any).getComputedStyle(el).getPropertyValue('--accent-9').trim());
    expect(accent).toBe('#0f766e');
    await page.getByText('No endpoints yet').waitFor();
    await screenshot(page, '01-endpoints-empty');
  });

  it('adds an endpoint with the form, choosing event types from the catalog with an example payload', async () => {
    await page.getByRole('button', { name: 'Add endpoint' }).first().click();
    await page.getByRole('heading', { name: 'Add endpoint' }).waitFor();
    await page.getByLabel('Endpoint URL').fill(receiver.url());
    await page.getByLabel('Description').fill('Billing service <b>prod</b>');
    await page.getByRole('radio', { name: 'Only the types I choose' }).click();
    await page.getByRole('checkbox', { name: 'invoice.paid' }).click();
    await page.getByRole('button', { name: 'Show example payload' }).first().click();
    const example = await page.getByLabel('Example payload of invoice.paid').textContent();
    expect(JSON.parse(example ?? '')).toEqual({ invoiceId: 'inv_1042', amount: 4200, currency: 'EUR' });
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header 1 name').fill('X-Acme-Env');
    await page.getByLabel('Header 1 value').fill('prod');
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header 2 name').fill('Authorization');
    await page.getByLabel('Header 2 value').fill(CREDENTIAL);
    await page.getByLabel('Rate limit (deliveries per second)').fill('50');
    // One retry a second after the first attempt: a failure is final within seconds.
    await page.getByLabel('Retry schedule').fill('1s');
    await screenshot(page, '02-endpoint-form');
    await page.getByRole('button', { name: 'Create endpoint' }).click();

    await page.getByRole('tab', { name: 'Overview' }).waitFor();
    const list = await stack.request('GET', `/endpoints?tenantId=${tenantId}`);
    expect(list.body.data).toHaveLength(1);
    const created = list.body.data[0];
    endpointId = created.id;
    expect(created).toMatchObject({ url: receiver.url(), description: 'Billing service <b>prod</b>', eventTypes: ['invoice.paid'], headers: { 'X-Acme-Env': 'prod', Authorization: '********' }, rateLimitPerSecond: 50, retrySchedule: ['1s'] });
    // The description is shown as written, markup and all.
    await page.getByText('Billing service <b>prod</b>').waitFor();
    await screenshot(page, '03-endpoint-overview-new');
  });

  it('sends a test event and watches it arrive', async () => {
    await page.getByRole('tab', { name: 'Testing' }).click();
    await expect.poll(() => page.getByLabel('Event type').inputValue()).toBe('invoice.paid');
    await page.getByRole('button', { name: 'Send test event' }).click();
    const delivered = page.getByText(/Delivered with HTTP 200 after 1 attempt/);
    await delivered.waitFor({ timeout: 30_000 });
    await delivered.scrollIntoViewIfNeeded();
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.headers['x-acme-env']).toBe('prod');
    expect(receiver.received[0]!.headers.authorization).toBe(CREDENTIAL);
    expect(receiver.bodies()[0]).toMatchObject({ type: 'invoice.paid', tenantId, data: { invoiceId: 'inv_1042', amount: 4200 } });
    await screenshot(page, '04-test-event-delivered');
  });

  it('shows a failed attempt with its response body as text, and the markup in it does not run', async () => {
    receiver.answer = () => ({ status: 500, headers: { 'content-type': 'text/html' }, body: XSS_BODY });
    await page.getByRole('button', { name: 'Send test event' }).click();
    const failedText = page.getByText(/Failed with HTTP 500 after 2 attempts/);
    await failedText.waitFor({ timeout: 30_000 });
    await failedText.scrollIntoViewIfNeeded();
    await screenshot(page, '05-test-event-failed');

    await page.getByRole('tab', { name: 'Attempts' }).click();
    await page.getByRole('table', { name: 'Delivery attempts' }).waitFor();
    // The first test's success and the failure's two attempts.
    await expect.poll(() => page.getByRole('table', { name: 'Delivery attempts' }).locator('tbody tr').count()).toBe(3);
    await screenshot(page, '06-attempts');
    const failed = (await stack.request('GET', `/endpoints/${endpointId}/attempts?status=failed`)).body.data[0];
    expect(failed.attempt).toBe(2);
    await page.getByRole('button', { name: `Details of attempt 2 of ${failed.messageId}` }).click();
    const body = page.getByLabel('Response body');
    await body.waitFor();
    expect(await body.textContent()).toBe(XSS_BODY);
    expect(await page.locator('dialog[open] img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as any).__xss)).toBeUndefined();
    const recorded = (await stack.request('GET', `/attempts/${failed.id}`)).body;
    expect(await page.getByLabel('Request body').textContent()).toContain(`"id": "${failed.messageId}"`);
    // Attempts recorded before hookflow kept request headers have none; the page says so instead.
    const requestHeaders = await page.getByLabel('Request headers').textContent();
    expect(requestHeaders).toMatch(/webhook-signature: v1,/);
    expect(requestHeaders).toContain('Authorization: ********');
    expect(requestHeaders).not.toContain('acme-live');
    expect(recorded.request.headers.Authorization).toBe('********');
    await screenshot(page, '07-attempt-detail');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('dialog[open]').count()).toBe(0);
  });

  it('redelivers the failed message once the receiver recovers', async () => {
    receiver.answer = () => ({ status: 200, body: 'ok' });
    const failed = (await stack.request('GET', `/endpoints/${endpointId}/attempts?status=failed`)).body.data[0];
    await page.getByRole('button', { name: failed.messageId }).first().click();
    await page.getByRole('heading', { name: failed.messageId }).waitFor();
    const deliveries = page.getByRole('table', { name: 'Deliveries' });
    await deliveries.getByText('Failed', { exact: true }).waitFor();
    await screenshot(page, '08-message-failed');
    await page.getByRole('button', { name: `Redeliver to ${receiver.url()}` }).click();
    await deliveries.getByText('Succeeded', { exact: true }).waitFor({ timeout: 30_000 });
    const event = await stack.request('GET', `/events/${failed.messageId}`);
    expect(event.body.deliveries[0].status).toBe('succeeded');
    await screenshot(page, '09-message-redelivered');
  });

  it('lists messages newest first with filters', async () => {
    await page.getByRole('link', { name: 'Messages' }).click();
    const table = page.getByRole('table', { name: 'Messages' });
    await table.waitFor();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(2);
    await screenshot(page, '10-messages');
    await page.getByLabel('Status').selectOption('succeeded');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(2);
    // The one failure has been redelivered: no message has a failed delivery left.
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No messages match these filters.').waitFor();
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Time').selectOption('3600');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(2);
  });

  it('rotates the signing secret after revealing it', async () => {
    await page.getByRole('link', { name: 'Endpoints' }).click();
    await page.getByRole('button', { name: receiver.url() }).click();
    await page.getByRole('tab', { name: 'Signing secret' }).click();
    await page.getByRole('button', { name: 'Reveal' }).click();
    const secret = page.getByTestId('secret');
    await expect.poll(() => secret.textContent()).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    const before = await secret.textContent();
    expect(before).toBe((await stack.request('GET', `/endpoints/${endpointId}/secret`)).body.secret);
    await screenshot(page, '11-signing-secret');
    await page.getByRole('button', { name: 'Rotate' }).click();
    await page.getByRole('dialog', { name: 'Rotate the signing secret?' }).waitFor();
    await screenshot(page, '12-rotate-confirm');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByText(/^Rotated\./).waitFor();
    const after = await secret.textContent();
    expect(after).not.toBe(before);
    expect(after).toBe((await stack.request('GET', `/endpoints/${endpointId}/secret`)).body.secret);
    for (const language of ['Node.js', 'Python', 'Go']) {
      await page.getByRole('tab', { name: language }).click();
      expect(await page.getByLabel(`${language} example`, { exact: true }).textContent()).toMatch(/verify|Verify/);
    }
  });

  it('charts the successes and failures of the last 24 h and 7 d', async () => {
    await page.getByRole('tab', { name: 'Overview' }).click();
    const stats = (await stack.request('GET', `/endpoints/${endpointId}/stats?period=24h`)).body;
    // The first test, the redelivery, the two attempts of the failure.
    expect(stats.totals).toEqual({ succeeded: 2, failed: 2 });
    await page.getByTestId('chart-succeeded').getByText('2 succeeded').waitFor();
    await page.getByTestId('chart-failed').getByText('2 failed').waitFor();
    expect(await page.locator('.chart rect.bar-failed').count()).toBeGreaterThan(0);
    expect(await page.getByRole('img', { name: 'Last 24 hours: 2 succeeded, 2 failed' }).count()).toBe(1);
    await screenshot(page, '13-chart-24h');
    await page.getByRole('radio', { name: '7 days' }).click();
    await page.getByRole('img', { name: 'Last 7 days: 2 succeeded, 2 failed' }).waitFor();
    await screenshot(page, '14-chart-7d');
  });

  it('recovers every failure since a chosen time', async () => {
    receiver.answer = () => ({ status: 503, body: 'down for maintenance' });
    await page.getByRole('tab', { name: 'Testing' }).click();
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText(/Failed with HTTP 503 after 2 attempts/).waitFor({ timeout: 30_000 });
    const failed = (await stack.request('GET', `/endpoints/${endpointId}/attempts?status=failed`)).body.data[0];
    await waitFor(async () => (await stack.request('GET', `/events/${failed.messageId}`)).body.deliveries[0].status === 'failed', 'the delivery to end failed');
    receiver.answer = () => ({ status: 200, body: 'ok' });

    await page.getByRole('tab', { name: 'Attempts' }).click();
    // From the default, 24 hours ago: only this message's delivery is failed now (the earlier one was redelivered).
    await page.getByRole('button', { name: 'Recover failures' }).click();
    await page.getByText('Redelivering 1 failed message.').waitFor();
    await screenshot(page, '15-recovered');
    await waitFor(async () => (await stack.request('GET', `/events/${failed.messageId}`)).body.deliveries[0].status === 'succeeded', 'the recovered delivery to succeed');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByLabel('Status', { exact: true }).selectOption('succeeded');
    await expect.poll(() => page.getByRole('table', { name: 'Delivery attempts' }).locator('tbody tr').count()).toBe(3);
  });

  it('edits the endpoint, then disables and enables it, and shows its state in the list', async () => {
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit endpoint' }).waitFor();
    expect(await page.getByLabel('Retry schedule').inputValue()).toBe('1s');
    // The credential is stored, not shown: an empty password field that keeps it unless something is typed.
    const credential = page.getByLabel('Header 2 value');
    expect(await page.getByLabel('Header 2 name').inputValue()).toBe('Authorization');
    expect(await credential.inputValue()).toBe('');
    expect(await credential.getAttribute('type')).toBe('password');
    expect(await credential.getAttribute('placeholder')).toBe('Stored, unchanged');
    expect(await page.content()).not.toContain('acme-live');
    await page.getByLabel('Description').fill('Billing service (EU)');
    await page.getByLabel('Channels').fill('eu, billing');
    await credential.scrollIntoViewIfNeeded();
    await screenshot(page, '15b-edit-stored-credential');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Billing service (EU)').waitFor();
    expect((await stack.request('GET', `/endpoints/${endpointId}`)).body).toMatchObject({ description: 'Billing service (EU)', channels: ['eu', 'billing'], retrySchedule: ['1s'], headers: { 'X-Acme-Env': 'prod', Authorization: '********' } });
    // Edited without retyping, the credential is the one given at creation (no key here: its JSON is plaintext).
    const stored = (await stack.db.query('SELECT sensitive_headers FROM endpoints WHERE id = $1', [endpointId])).rows[0].sensitive_headers;
    expect(JSON.parse(stored)).toEqual({ Authorization: CREDENTIAL });

    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    expect((await stack.request('GET', `/endpoints/${endpointId}`)).body.disabled).toBe(true);
    await page.getByRole('button', { name: 'All endpoints' }).click();
    await page.getByRole('table', { name: 'Endpoints' }).getByText('Disabled').waitFor();
    await screenshot(page, '16-endpoints-list');
    await page.getByRole('button', { name: receiver.url() }).click();
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
  });

  it('can be used with the keyboard alone', async () => {
    // A second portal link in the same tab changes only the fragment: the page starts over on the new token.
    await page.goto(await openSession({ tenantId }));
    await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    expect(page.url()).not.toContain('hfp_');
    await page.evaluate(() => (globalThis as any).document.activeElement?.blur());
    const focused = () => page.evaluate(() => (globalThis as any).document.activeElement?.textContent?.trim() ?? '');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to content');
    // Tab to the endpoint's link, open it, move between its tabs with the arrow keys.
    let steps = 0;
    while ((await focused()) !== receiver.url() && steps++ < 20) await page.keyboard.press('Tab');
    expect(await focused()).toBe(receiver.url());
    await page.keyboard.press('Enter');
    await page.getByRole('tab', { name: 'Overview' }).waitFor();
    await page.getByRole('tab', { name: 'Overview' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await page.getByRole('table', { name: 'Delivery attempts' }).waitFor();
    // A dialog takes the focus and gives it back on Escape.
    await page.getByRole('tab', { name: 'Overview' }).focus();
    steps = 0;
    while ((await focused()) !== 'Delete' && steps++ < 20) await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Delete this endpoint?' }).waitFor();
    expect(await focused()).toBe('Cancel');
    await screenshot(page, '17-delete-confirm');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('dialog[open]').count()).toBe(0);
    expect((await stack.request('GET', `/endpoints/${endpointId}`)).status).toBe(200);
  });

  it('has no serious or critical accessibility problem on any screen', async () => {
    const screens: [string, () => Promise<void>][] = [
      ['endpoints', async () => { await page.getByRole('link', { name: 'Endpoints' }).click(); await page.getByRole('table', { name: 'Endpoints' }).waitFor(); }],
      ['endpoint overview', async () => { await page.getByRole('button', { name: receiver.url() }).click(); await page.getByRole('img', { name: /Last 24 hours/ }).waitFor(); }],
      ['attempts', async () => { await page.getByRole('tab', { name: 'Attempts' }).click(); await page.getByRole('table', { name: 'Delivery attempts' }).waitFor(); }],
      ['attempt detail', async () => { await page.getByRole('button', { name: /^Details of attempt/ }).first().click(); await page.getByLabel('Response body').waitFor(); }],
      ['testing', async () => { await page.keyboard.press('Escape'); await page.getByRole('tab', { name: 'Testing' }).click(); await page.getByRole('button', { name: 'Send test event' }).waitFor(); }],
      ['signing secret', async () => { await page.getByRole('tab', { name: 'Signing secret' }).click(); await page.getByRole('button', { name: 'Reveal' }).waitFor(); }],
      ['edit form', async () => { await page.getByRole('button', { name: 'Edit' }).click(); await page.getByRole('heading', { name: 'Edit endpoint' }).waitFor(); }],
      ['messages', async () => { await page.getByRole('link', { name: 'Messages' }).click(); await page.getByRole('table', { name: 'Messages' }).waitFor(); }],
      ['catalog', async () => { await page.getByRole('link', { name: 'Event catalog' }).click(); await page.getByRole('heading', { name: 'invoice.paid' }).waitFor(); }],
    ];
    for (const [name, open] of screens) {
      await open();
      expect(await axeViolations(page), name).toEqual([]);
    }
    await screenshot(page, '18-event-catalog');
  });

  it('hides every change from a read-only session', async () => {
    const readOnly = await context.newPage();
    const readOnlySeen = watchPage(readOnly);
    await readOnly.goto(await openSession({ tenantId, readOnly: true }));
    await readOnly.getByText('Read-only', { exact: true }).waitFor();
    expect(await readOnly.getByRole('button', { name: 'Add endpoint' }).count()).toBe(0);
    await readOnly.getByRole('button', { name: receiver.url() }).click();
    await readOnly.getByRole('tab', { name: 'Overview' }).waitFor();
    for (const name of ['Edit', 'Disable', 'Delete']) expect(await readOnly.getByRole('button', { name }).count()).toBe(0);
    await readOnly.getByRole('tab', { name: 'Signing secret' }).click();
    await readOnly.getByText('Read-only access cannot see the signing secret.').waitFor();
    await readOnly.getByRole('tab', { name: 'Testing' }).click();
    expect(await readOnly.getByRole('button', { name: 'Send test event' }).isDisabled()).toBe(true);
    await screenshot(readOnly, '19-read-only');
    expect(readOnlySeen.errors).toEqual([]);
    await readOnly.close();
  });

  it('works inside an iframe of an origin in PORTAL_FRAME_ANCESTORS, and nowhere else', async () => {
    const host = await context.newPage();
    const hostSeen = watchPage(host);
    const url = await openSession({ tenantId, theme: { name: 'Acme Cloud', primaryColor: '#b91c1c' } });
    await host.goto(`${platformOrigin}/?src=${encodeURIComponent(url)}`);
    const frame = host.frameLocator('iframe[title="Webhooks"]');
    await frame.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    await frame.getByRole('button', { name: receiver.url() }).click();
    await frame.getByRole('tab', { name: 'Overview' }).waitFor();
    await screenshot(host, '20-in-iframe');
    expect(hostSeen.errors).toEqual([]);
    await host.close();

    // 127.0.0.1 is another origin than the listed localhost one: the browser refuses to show the page there.
    const elsewhere = await context.newPage();
    const other = await startPlatformApp();
    try {
      const refused = new Promise<string>((resolve) => elsewhere.on('console', (m) => m.text().includes('frame-ancestors') && resolve(m.text())));
      await elsewhere.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/?src=${encodeURIComponent(await openSession({ tenantId }))}`);
      expect(await refused).toMatch(/frame-ancestors/);
    } finally {
      await elsewhere.close();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('tells the customer when the session has been revoked', async () => {
    const revoked = await context.newPage();
    const url = await openSession({ tenantId });
    await revoked.goto(url);
    await revoked.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    const token = new URL(url).hash.replace('#token=', '');
    expect((await stack.request('DELETE', `/portal/sessions/${token}`)).status).toBe(204);
    // The page's next request meets the 401: a navigation, or its own refresh when that comes first (then the
    // link is gone with the screen it was on, and there is nothing left to click).
    const ended = revoked.getByRole('heading', { name: 'Your session has ended' });
    if (!(await ended.isVisible())) await revoked.getByRole('link', { name: 'Messages' }).click({ timeout: 5_000 }).catch(() => undefined);
    await ended.waitFor();
    await screenshot(revoked, '21-session-ended');
    await revoked.close();
  });

  it('logged no console error, and never put the token in a URL or a Referer', () => {
    expect(seen.errors).toEqual([]);
    expect(seen.urls.filter((u) => u.includes('hfp_') && !u.includes('#token='))).toEqual([]);
    expect(seen.referers).toEqual([]);
  });
});
