import { PaperPlaneIcon } from '@radix-ui/react-icons';
import { Box, Button, Callout, Card, Code, Flex, Heading, Spinner, Text, TextArea } from '@radix-ui/themes';
import { useId, useState } from 'react';
import { api, unwrap, type Endpoint, type Message } from '../api/client';
import { StatusBadge } from '../components/AttemptSheet';
import { ErrorCallout } from '../components/ErrorCallout';
import { NativeSelect } from '../components/Select';
import { formatDateTime } from '../format';
import { useInterval, useLoad } from '../hooks';
import { examplePayload } from '../sample';

type Sent = { id: string; type: string; at: string; delivery?: Message['deliveries'][number] };

/** Send a test event through the normal path and watch its delivery to this endpoint until it ends. */
export function TestEvent({ endpoint, readOnly }: { endpoint: Endpoint; readOnly: boolean }) {
  const catalog = useLoad(async () => ((await unwrap(api.GET('/event-types', {}))).data ?? []), []);
  const types = (catalog.data ?? []).filter((t) => endpoint.eventTypes.length === 0 || endpoint.eventTypes.includes(t.name));
  const [type, setType] = useState('');
  const chosen = types.find((t) => t.name === type) ?? types[0];
  const [payload, setPayload] = useState<string | null>(null);
  const payloadText = payload ?? JSON.stringify(examplePayload(chosen?.schema), null, 2);
  const [sent, setSent] = useState<Sent[]>([]);
  const [state, setState] = useState<{ busy: boolean; error?: Error }>({ busy: false });
  const id = useId();

  const pending = sent.filter((s) => !s.delivery || s.delivery.status === 'pending');
  useInterval(async () => {
    const updates = await Promise.all(
      pending.map(async (s) => {
        const message = await unwrap(api.GET('/events/{id}', { params: { path: { id: s.id } } }));
        return { id: s.id, delivery: message.deliveries.find((d) => d.endpointId === endpoint.id) };
      }),
    ).catch(() => []);
    setSent((all) => all.map((s) => ({ ...s, delivery: updates.find((u) => u.id === s.id)?.delivery ?? s.delivery })));
  }, 1000, pending.length > 0);

  const send = async () => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payloadText) as Record<string, unknown>;
    } catch {
      return setState({ busy: false, error: new Error('The payload is not valid JSON.') });
    }
    setState({ busy: true });
    try {
      const eventType = chosen?.name;
      const accepted = (await unwrap(api.POST('/endpoints/{id}/test', { params: { path: { id: endpoint.id } }, body: { type: eventType, payload: body } })));
      setSent((all) => [{ id: accepted.id, type: eventType ?? 'test', at: new Date().toISOString() }, ...all]);
      setState({ busy: false });
    } catch (err) {
      setState({ busy: false, error: err as Error });
    }
  };

  return (
    <Flex direction="column" gap="4">
      <Card size="3">
        <Heading as="h2" size="3">
          Send a test event
        </Heading>
        <Text as="p" size="2" color="gray" mb="4">
          It goes through the same path as real events: signed, retried, and recorded under Attempts.
        </Text>
        <Flex direction="column" gap="3">
          <Flex direction="column" gap="1">
            <Text as="label" size="2" weight="medium" htmlFor={`${id}-type`}>
              Event type
            </Text>
            <NativeSelect
              id={`${id}-type`}
              value={chosen?.name ?? ''}
              onChange={(e) => {
                setType(e.target.value);
                setPayload(null);
              }}
              options={types.length === 0 ? [{ value: '', label: 'hookflow.test (no types in the catalog)' }] : types.map((t) => ({ value: t.name, label: t.name }))}
            />
            {chosen?.description && <Text size="1" color="gray">{chosen.description}</Text>}
          </Flex>
          <Flex direction="column" gap="1">
            <Text as="label" size="2" weight="medium" htmlFor={`${id}-payload`}>
              Payload
            </Text>
            <TextArea id={`${id}-payload`} className="mono code-input" rows={8} value={payloadText} onChange={(e) => setPayload(e.target.value)} />
          </Flex>
          <ErrorCallout error={state.error} />
          <Box>
            <Button onClick={send} loading={state.busy} disabled={readOnly}>
              <PaperPlaneIcon aria-hidden="true" /> Send test event
            </Button>
            {readOnly && <Text size="1" color="gray" ml="3">Read-only access cannot send events.</Text>}
          </Box>
        </Flex>
      </Card>
      {sent.length > 0 && (
        <Card size="3">
          <Heading as="h2" size="3" mb="3">
            Sent from this page
          </Heading>
          <ul className="plain-list" aria-live="polite" aria-label="Test events sent">
            {sent.map((s) => (
              <li key={s.id}>
                <Flex justify="between" align="center" gap="3" py="2">
                  <Flex direction="column">
                    <Code variant="ghost">{s.type}</Code>
                    <Text size="1" color="gray">
                      {s.id} · {formatDateTime(s.at)}
                    </Text>
                  </Flex>
                  <DeliveryProgress delivery={s.delivery} />
                </Flex>
              </li>
            ))}
          </ul>
        </Card>
      )}
      {types.length === 0 && catalog.data && (
        <Callout.Root color="gray">
          <Callout.Text>No event types this endpoint listens to are in the catalog; the test uses a generic type.</Callout.Text>
        </Callout.Root>
      )}
    </Flex>
  );
}

function DeliveryProgress({ delivery }: { delivery: Sent['delivery'] }) {
  if (!delivery || delivery.status === 'pending') {
    return (
      <Flex align="center" gap="2">
        <Spinner size="1" />
        <Text size="2" color="gray">
          {delivery && delivery.attempts > 0 ? `Retrying (attempt ${delivery.attempts} answered ${delivery.lastStatusCode ?? 'no response'})` : 'Delivering…'}
        </Text>
      </Flex>
    );
  }
  return (
    <Flex align="center" gap="2">
      <StatusBadge status={delivery.status} />
      <Text size="2" color="gray">
        {delivery.status === 'succeeded' ? 'Delivered' : 'Failed'}
        {delivery.lastStatusCode !== null ? ` with HTTP ${delivery.lastStatusCode}` : ''}
        {` after ${delivery.attempts} attempt${delivery.attempts === 1 ? '' : 's'}`}
      </Text>
    </Flex>
  );
}
