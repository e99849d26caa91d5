import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, ensurePortalBuilt, openPortal, screenshot, type watchPage } from '../support/browser';
import { Receiver, waitFor, type Received } from '../support/receiver';
import { startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * Ordered delivery in the customer portal, in Chromium: the form's "Deliver in order", an endpoint's queue
 * (how many wait, and for what), and a message that waits. Screenshots in test-artifacts/portal/.
 */
let stack: TestStack;
let browser: Browser;
let page: Page;
let seen: ReturnType<typeof watchPage>;
let receiver: Receiver;
let open = false;
const tenantId = uniqueTenant('portal-fifo');
let endpointId: string;
const sent: string[] = [];

// A message whose payload says `hold` fails until the test opens the gate; the queue waits behind it.
const answer = (r: Received) => ({ status: !open && (JSON.parse(r.body) as { data: { hold?: boolean } }).data.hold ? 500 : 200 });

async function send(payload: Record<string, unknown>, orderingKey?: string): Promise<string> {
  const r = await stack.request('POST', '/events', { tenantId, type: 'order.updated', payload, orderingKey });
  expect(r.status).toBe(202);
  return r.body.id;
}

beforeAll(async () => {
  ensurePortalBuilt();
  stack = await startTestStack({ RETRY_INITIAL_INTERVAL: '1s', RETRY_BACKOFF_COEFFICIENT: '1', RETRY_MAX_INTERVAL: '1s' });
  receiver = await Receiver.start(answer);
  ({ browser, page, seen } = await openPortal(stack, { tenantId, theme: { name: 'Acme Shop' } }));
});

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await stack?.stop();
});

describe('ordered delivery in the customer portal', () => {
  it('adds an endpoint that delivers in order', async () => {
    await page.getByRole('button', { name: 'Add endpoint' }).first().click();
    await page.getByLabel('Endpoint URL').fill(receiver.url());
    await page.getByLabel('Description').fill('Order sync');
    await page.getByRole('checkbox', { name: 'Deliver in order' }).click();
    await page.getByRole('checkbox', { name: 'Deliver in order' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'fifo-01-form');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByRole('tab', { name: 'Overview' }).waitFor();
    const list = await stack.request('GET', `/endpoints?tenantId=${tenantId}`);
    endpointId = list.body.data[0].id;
    expect(list.body.data[0].ordering).toBe('fifo');
    await page.getByText('In order, one at a time').waitFor();
    await page.getByText('No event is waiting.').waitFor();
  });

  it("shows the endpoint's queue: how many events wait, and for which message", async () => {
    sent.push(await send({ order: 7, status: 'created', hold: true }));
    for (const status of ['paid', 'shipped', 'delivered']) sent.push(await send({ order: 7, status }));
    sent.push(await send({ order: 8, status: 'created' }, 'order-8'));
    // Order 8 has a key of its own: it does not wait behind order 7.
    await waitFor(() => receiver.received.some((r) => r.headers['webhook-id'] === sent[4]), 'the keyed message');
    await page.getByText('3 events wait for their turn.').waitFor({ timeout: 30_000 });
    const queues = page.getByRole('table', { name: 'Queues by ordering key' });
    await queues.getByRole('button', { name: sent[0] }).waitFor();
    await queues.getByText('Delivering').waitFor();
    await queues.scrollIntoViewIfNeeded();
    await screenshot(page, 'fifo-02-queue');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('opens the message the queue waits for, and a message that waits says so', async () => {
    await page.getByRole('table', { name: 'Queues by ordering key' }).getByRole('button', { name: sent[0] }).click();
    await page.getByRole('heading', { name: sent[0] }).waitFor();
    await page.getByRole('link', { name: 'Messages' }).click();
    await page.getByRole('table', { name: 'Messages' }).getByRole('button', { name: sent[2] }).click();
    await page.getByRole('heading', { name: sent[2] }).waitFor();
    await page.getByText(`In order: waits for ${sent[0]}`).waitFor();
    expect(await page.getByRole('button', { name: `Redeliver to ${receiver.url()}` }).isDisabled()).toBe(true);
    await screenshot(page, 'fifo-03-message-waiting');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('empties once the head is delivered, in order', async () => {
    open = true;
    await waitFor(() => sent.every((id) => receiver.received.some((r) => r.headers['webhook-id'] === id)), 'every message', 60_000);
    const order = receiver.received.map((r) => String(r.headers['webhook-id'])).filter((id) => sent.slice(0, 4).includes(id));
    expect([...new Set(order)]).toEqual(sent.slice(0, 4));
    await page.getByRole('link', { name: 'Endpoints' }).click();
    await page.getByRole('button', { name: receiver.url() }).click();
    await page.getByText('No event is waiting.').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Edit' }).click();
    expect(await page.getByRole('checkbox', { name: 'Deliver in order' }).isChecked()).toBe(true);
    await page.getByText('A change applies to events sent after it.').waitFor();
    expect((await stack.request('GET', `/endpoints/${endpointId}/queue`)).body).toMatchObject({ waiting: 0, queues: [] });
    expect(seen.errors).toEqual([]);
  });
});
