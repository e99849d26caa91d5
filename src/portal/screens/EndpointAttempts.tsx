import { Button, Card, Flex, Heading, Link, Skeleton, Text, TextField } from '@radix-ui/themes';
import { useId, useState } from 'react';
import { api, unwrap, type Endpoint } from '../api/client';
import { AttemptSheet } from '../components/AttemptSheet';
import { AttemptsTable } from '../components/AttemptsTable';
import { ErrorCallout } from '../components/ErrorCallout';
import { NativeSelect } from '../components/Select';
import { usePaged } from '../hooks';
import { TimeWindowSelect, sinceOf } from './TimeWindow';

const PAGE = 20;
type StatusFilter = '' | 'succeeded' | 'failed';

/** The endpoint's attempts, newest first, with a status filter, paging, and "recover failures since". */
export function EndpointAttempts({ endpoint, readOnly, onOpenMessage }: { endpoint: Endpoint; readOnly: boolean; onOpenMessage: (id: string) => void }) {
  const [status, setStatus] = useState<StatusFilter>('');
  const [window, setWindow] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const id = useId();
  const attempts = usePaged(
    (cursor) =>
      unwrap(api.GET('/endpoints/{id}/attempts', { params: { path: { id: endpoint.id }, query: { status: status || undefined, since: sinceOf(window), limit: PAGE, cursor } } })),
    [endpoint.id, status, window],
  );
  const rows = attempts.rows;

  return (
    <Flex direction="column" gap="4">
      {!readOnly && <RecoverFailures endpoint={endpoint} onRecovered={attempts.reload} />}
      <Card size="3">
        <Flex justify="between" align="center" gap="3" wrap="wrap" mb="3">
          <Heading as="h2" size="3">
            Delivery attempts
          </Heading>
          <Flex align="center" gap="2">
            <Text as="label" size="2" htmlFor={`${id}-status`} color="gray">
              Status
            </Text>
            <NativeSelect
              id={`${id}-status`}
              value={status}
              onChange={(e) => setStatus(e.target.value as StatusFilter)}
              options={[{ value: '', label: 'All' }, { value: 'succeeded', label: 'Succeeded' }, { value: 'failed', label: 'Failed' }]}
            />
            <Text as="label" size="2" htmlFor={`${id}-time`} color="gray">
              Time
            </Text>
            <TimeWindowSelect id={`${id}-time`} value={window} onChange={setWindow} />
            <Button variant="soft" color="gray" onClick={attempts.reload}>
              Refresh
            </Button>
          </Flex>
        </Flex>
        <ErrorCallout error={attempts.error} retry={attempts.reload} />
        {attempts.loading && rows.length === 0 && <Skeleton height="160px" />}
        {!attempts.loading && rows.length === 0 && !attempts.error && (
          <Text as="p" size="2" color="gray" align="center" my="5">
            No attempts{status ? ` that ${status}` : ''}{window ? ' in this time' : ''} yet. Send a test event from the Testing tab.
          </Text>
        )}
        {rows.length > 0 && (
          <AttemptsTable
            label="Delivery attempts"
            rows={rows}
            redWhenFailed
            columns={[
              {
                header: 'Message',
                cell: (a) => (
                  <Link asChild size="2" className="mono">
                    <button type="button" className="link-button" onClick={() => onOpenMessage(a.messageId)}>
                      {a.messageId}
                    </button>
                  </Link>
                ),
              },
              { header: 'Attempt', cell: (a) => `#${a.attempt}` },
            ]}
            detailsLabel={(a) => `Details of attempt ${a.attempt} of ${a.messageId}`}
            onDetails={setOpen}
          />
        )}
        {attempts.hasMore && (
          <Flex justify="center" mt="3">
            <Button variant="soft" color="gray" onClick={attempts.loadMore} loading={attempts.loadingMore}>
              Load older attempts
            </Button>
          </Flex>
        )}
      </Card>
      <AttemptSheet attemptId={open} onClose={() => setOpen(null)} />
    </Flex>
  );
}

const toLocalInput = (date: Date) => {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
};

function RecoverFailures({ endpoint, onRecovered }: { endpoint: Endpoint; onRecovered: () => void }) {
  const [since, setSince] = useState(() => toLocalInput(new Date(Date.now() - 24 * 3_600_000)));
  const [state, setState] = useState<{ busy: boolean; result?: string; error?: Error }>({ busy: false });
  const id = useId();
  const recover = async () => {
    const when = new Date(since);
    if (Number.isNaN(when.getTime())) return setState({ busy: false, error: new Error('Choose a date and time to recover from.') });
    setState({ busy: true });
    try {
      const result = (await unwrap(api.POST('/endpoints/{id}/recover', { params: { path: { id: endpoint.id } }, body: { since: when.toISOString() } })));
      setState({ busy: false, result: result.count === 0 ? 'No failed messages since then.' : `Redelivering ${result.count} failed message${result.count === 1 ? '' : 's'}.` });
      onRecovered();
    } catch (err) {
      setState({ busy: false, error: err as Error });
    }
  };
  return (
    <Card size="3">
      <Flex justify="between" align="end" gap="4" wrap="wrap">
        <Flex direction="column" gap="1">
          <Heading as="h2" size="3">
            Recover failed messages
          </Heading>
          <Text size="2" color="gray">
            Send again every message whose delivery to this endpoint failed since a time, e.g. after an outage on your side.
          </Text>
        </Flex>
        <Flex align="end" gap="2">
          <Flex direction="column" gap="1">
            <Text as="label" size="1" htmlFor={`${id}-since`} color="gray">
              Failed since
            </Text>
            <TextField.Root id={`${id}-since`} type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
          </Flex>
          <Button onClick={recover} loading={state.busy}>
            Recover failures
          </Button>
        </Flex>
      </Flex>
      <div aria-live="polite">
        {state.result && (
          <Text as="p" size="2" color="green" mt="3">
            {state.result}
          </Text>
        )}
      </div>
      <ErrorCallout error={state.error} />
    </Card>
  );
}
