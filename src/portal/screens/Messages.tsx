import { Badge, Button, Card, Code, Flex, Heading, Link, Skeleton, Table, Text } from '@radix-ui/themes';
import { useId, useState } from 'react';
import { api, unwrap, type Message } from '../api/client';
import { DataTable } from '../components/DataTable';
import { ErrorCallout } from '../components/ErrorCallout';
import { NativeSelect } from '../components/Select';
import { formatDateTime, formatRelative } from '../format';
import { useLoad } from '../hooks';

const PAGE = 25;
const WINDOWS = [
  { value: '', label: 'Any time' },
  { value: '3600', label: 'Last hour' },
  { value: '86400', label: 'Last 24 hours' },
  { value: '604800', label: 'Last 7 days' },
  { value: '2592000', label: 'Last 30 days' },
];
type Status = '' | 'pending' | 'succeeded' | 'failed';

/**
 * Messages, newest first. The time filter walks the pages from the newest and stops at the first
 * message older than the window, so it needs nothing from the API beyond its cursor.
 */
export function Messages(props: { tenantId: string; onOpen: (id: string) => void }) {
  const [status, setStatus] = useState<Status>('');
  const [type, setType] = useState('');
  const [window, setWindow] = useState('');
  const [rows, setRows] = useState<Message[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const id = useId();
  const catalog = useLoad(async () => ((await unwrap(api.GET('/event-types', {}))).data ?? []), []);
  const since = window ? Date.now() - Number(window) * 1000 : 0;

  const fetchPage = async (after: string | undefined) => {
    const page = (await unwrap(
      api.GET('/events', { params: { query: { tenantId: props.tenantId, status: status || undefined, type: type || undefined, limit: PAGE, cursor: after } } }),
    ));
    const inWindow = page.data.filter((m) => Date.parse(m.createdAt) >= since);
    const reachedEnd = inWindow.length < page.data.length;
    return { data: inWindow, nextCursor: reachedEnd ? null : page.nextCursor };
  };
  const first = useLoad(async () => {
    const page = await fetchPage(undefined);
    setRows(page.data);
    setCursor(page.nextCursor);
    return page;
  }, [props.tenantId, status, type, window]);
  const [more, setMore] = useState<{ loading: boolean; error?: Error }>({ loading: false });
  const loadMore = async () => {
    if (!cursor) return;
    setMore({ loading: true });
    try {
      const page = await fetchPage(cursor);
      setRows((r) => [...r, ...page.data]);
      setCursor(page.nextCursor);
      setMore({ loading: false });
    } catch (err) {
      setMore({ loading: false, error: err as Error });
    }
  };

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
            <NativeSelect id={`${id}-time`} value={window} onChange={(e) => setWindow(e.target.value)} options={WINDOWS} />
          </Filter>
          <Button variant="soft" color="gray" onClick={first.reload}>
            Refresh
          </Button>
        </Flex>
      </Card>
      <ErrorCallout error={first.error ?? more.error} retry={first.error ? first.reload : undefined} />
      <Card size="1" className="flush">
        {first.loading && rows.length === 0 && <Skeleton height="200px" />}
        {!first.loading && rows.length === 0 && !first.error && (
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
      {cursor && (
        <Flex justify="center">
          <Button variant="soft" color="gray" onClick={loadMore} loading={more.loading}>
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
