import { Badge, Button, Card, Code, Flex, Heading, Link, Skeleton, Table, Text } from '@radix-ui/themes';
import { useId, useState } from 'react';
import { api, unwrap, type Message } from '../api/client';
import { DataTable } from '../components/DataTable';
import { ErrorCallout } from '../components/ErrorCallout';
import { NativeSelect } from '../components/Select';
import { formatDateTime, formatRelative } from '../format';
import { useLoad, usePaged } from '../hooks';
import { TimeWindowSelect, sinceOf } from './TimeWindow';

const PAGE = 25;
type Status = '' | 'pending' | 'succeeded' | 'failed';

/** Messages, newest first, filtered by delivery status, event type and time, paged. */
export function Messages(props: { tenantId: string; onOpen: (id: string) => void }) {
  const [status, setStatus] = useState<Status>('');
  const [type, setType] = useState('');
  const [window, setWindow] = useState('');
  const id = useId();
  const catalog = useLoad(async () => (await unwrap(api.GET('/event-types', {}))).data ?? [], []);
  const messages = usePaged(
    (cursor) =>
      unwrap(
        api.GET('/events', {
          params: { query: { tenantId: props.tenantId, status: status || undefined, type: type || undefined, since: sinceOf(window), limit: PAGE, cursor } },
        }),
      ),
    [props.tenantId, status, type, window],
  );
  const rows = messages.rows;

  return (
    <Flex direction="column" gap="4">
      <div>
        <Heading as="h1" size="6">
          Messages
        </Heading>
        <Text as="p" size="2" color="gray">
          Every event sent to your endpoints, newest first, with how its delivery went.
        </Text>
      </div>
      <Card size="2">
        <Flex gap="4" wrap="wrap" align="end" role="search" aria-label="Filter messages">
          <Filter id={`${id}-status`} label="Status">
            <NativeSelect
              id={`${id}-status`}
              value={status}
              onChange={(e) => setStatus(e.target.value as Status)}
              options={[{ value: '', label: 'All' }, { value: 'succeeded', label: 'Succeeded' }, { value: 'failed', label: 'Failed' }, { value: 'pending', label: 'Pending' }]}
            />
          </Filter>
          <Filter id={`${id}-type`} label="Event type">
            <NativeSelect id={`${id}-type`} value={type} onChange={(e) => setType(e.target.value)} options={[{ value: '', label: 'All types' }, ...(catalog.data ?? []).map((t) => ({ value: t.name, label: t.name }))]} />
          </Filter>
          <Filter id={`${id}-time`} label="Time">
            <TimeWindowSelect id={`${id}-time`} value={window} onChange={setWindow} />
          </Filter>
          <Button variant="soft" color="gray" onClick={messages.reload}>
            Refresh
          </Button>
        </Flex>
      </Card>
      <ErrorCallout error={messages.error} retry={messages.reload} />
      <Card size="1" className="flush">
        {messages.loading && rows.length === 0 && <Skeleton height="200px" />}
        {!messages.loading && rows.length === 0 && !messages.error && (
          <Text as="p" size="2" color="gray" align="center" my="6">
            No messages match these filters.
          </Text>
        )}
        {rows.length > 0 && (
          <DataTable label="Messages" variant="ghost">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeaderCell>Message</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Event type</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Deliveries</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Created</Table.ColumnHeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {rows.map((m) => (
                <Table.Row key={m.id} align="center" className="clickable-row" onClick={() => props.onOpen(m.id)}>
                  <Table.RowHeaderCell>
                    <Link asChild className="mono">
                      <button type="button" className="link-button" onClick={(e) => { e.stopPropagation(); props.onOpen(m.id); }}>
                        {m.id}
                      </button>
                    </Link>
                  </Table.RowHeaderCell>
                  <Table.Cell>
                    <Code variant="ghost">{m.type}</Code>
                  </Table.Cell>
                  <Table.Cell>
                    <DeliverySummary summary={m.deliverySummary} />
                  </Table.Cell>
                  <Table.Cell>
                    <time dateTime={m.createdAt} title={formatDateTime(m.createdAt)}>
                      {formatRelative(m.createdAt)}
                    </time>
                  </Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </DataTable>
        )}
      </Card>
      {messages.hasMore && (
        <Flex justify="center">
          <Button variant="soft" color="gray" onClick={messages.loadMore} loading={messages.loadingMore}>
            Load older messages
          </Button>
        </Flex>
      )}
    </Flex>
  );
}

function Filter({ id, label, children }: { id: string; label: string; children: React.ReactNode }) {
  return (
    <Flex direction="column" gap="1">
      <Text as="label" size="1" color="gray" htmlFor={id}>
        {label}
      </Text>
      {children}
    </Flex>
  );
}

export function DeliverySummary({ summary }: { summary: Message['deliverySummary'] }) {
  const parts = [
    { n: summary.succeeded, color: 'green', label: 'succeeded' },
    { n: summary.failed, color: 'red', label: 'failed' },
    { n: summary.pending, color: 'amber', label: 'pending' },
  ] as const;
  if (parts.every((p) => p.n === 0)) return <Text size="2" color="gray">No endpoint</Text>;
  return (
    <Flex gap="1" wrap="wrap">
      {parts.filter((p) => p.n > 0).map((p) => (
        <Badge key={p.label} color={p.color} variant="soft" highContrast>
          {p.n} {p.label}
        </Badge>
      ))}
    </Flex>
  );
}
