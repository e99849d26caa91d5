import { ArrowLeftIcon } from '@radix-ui/react-icons';
import { Box, Button, Card, Code, DataList, Flex, Heading, Link, Skeleton, Table, Text } from '@radix-ui/themes';
import { useState } from 'react';
import { api, unwrap } from '../api/client';
import { AttemptSheet, StatusBadge } from '../components/AttemptSheet';
import { AttemptsTable } from '../components/AttemptsTable';
import { DataTable } from '../components/DataTable';
import { ErrorCallout } from '../components/ErrorCallout';
import { TextBlock } from '../components/TextBlock';
import { formatDateTime, formatRelative } from '../format';
import { useInterval, useLoad } from '../hooks';

/** One message: its payload, its delivery to each endpoint (with redeliver), and every attempt. */
export function MessageDetail(props: { id: string; tenantId: string; readOnly: boolean; onBack: () => void }) {
  const message = useLoad(() => unwrap(api.GET('/events/{id}', { params: { path: { id: props.id } } })), [props.id]);
  const attempts = useLoad(async () => ((await unwrap(api.GET('/events/{id}/attempts', { params: { path: { id: props.id }, query: { limit: 100 } } }))).data ?? []), [props.id]);
  const endpoints = useLoad(async () => ((await unwrap(api.GET('/endpoints', { params: { query: { tenantId: props.tenantId } } }))).data ?? []), [props.tenantId]);
  const [open, setOpen] = useState<string | null>(null);
  const [redeliver, setRedeliver] = useState<{ busy: string | null; error?: Error; done?: string }>({ busy: null });
  const m = message.data;
  const urlOf = (id: string) => endpoints.data?.find((e) => e.id === id)?.url ?? id;
  const pending = m?.deliveries.some((d) => d.status === 'pending') ?? false;
  // A redelivery's new run claims its delivery a moment after the 202 (the row is not reset ahead of it),
  // so the page keeps refreshing for a while after one, not only while a delivery shows pending.
  const [watchUntil, setWatchUntil] = useState(0);
  useInterval(() => {
    message.reload();
    attempts.reload();
  }, 1500, pending || Date.now() < watchUntil);

  const again = async (endpointId: string) => {
    setRedeliver({ busy: endpointId });
    try {
      await unwrap(api.POST('/events/{id}/redeliver', { params: { path: { id: props.id } }, body: { endpointId } }));
      setRedeliver({ busy: null, done: `Redelivery to ${urlOf(endpointId)} started.` });
      setWatchUntil(Date.now() + 30_000);
      message.reload();
      attempts.reload();
    } catch (err) {
      setRedeliver({ busy: null, error: err as Error });
    }
  };

  return (
    <Flex direction="column" gap="4">
      <Box>
        <Link asChild size="2" color="gray">
          <button type="button" className="link-button" onClick={props.onBack}>
            <ArrowLeftIcon aria-hidden="true" /> Back
          </button>
        </Link>
      </Box>
      <ErrorCallout error={message.error} retry={message.reload} />
      {!m && !message.error && <Skeleton height="120px" />}
      {m && (
        <>
          <div>
            <Heading as="h1" size="5" className="mono">
              {m.id}
            </Heading>
            <Text as="p" size="2" color="gray">
              <Code variant="ghost">{m.type}</Code> · {formatDateTime(m.createdAt)}
              {m.channels.length > 0 && ` · channels ${m.channels.join(', ')}`}
              {m.orderingKey && <> · ordering key <Code variant="ghost">{m.orderingKey}</Code></>}
            </Text>
          </div>

          <Card size="3">
            <Heading as="h2" size="3" mb="3">
              Deliveries
            </Heading>
            <div aria-live="polite">
              {redeliver.done && (
                <Text as="p" size="2" color="green" mb="2">
                  {redeliver.done}
                </Text>
              )}
            </div>
            <ErrorCallout error={redeliver.error} />
            {m.deliveries.length === 0 ? (
              <Text size="2" color="gray">No endpoint was subscribed to this message.</Text>
            ) : (
              <DataTable label="Deliveries" size="2">
                <Table.Header>
                  <Table.Row>
                    <Table.ColumnHeaderCell>Endpoint</Table.ColumnHeaderCell>
                    <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
                    <Table.ColumnHeaderCell>Attempts</Table.ColumnHeaderCell>
                    <Table.ColumnHeaderCell>Last response</Table.ColumnHeaderCell>
                    <Table.ColumnHeaderCell>
                      <span className="visually-hidden">Actions</span>
                    </Table.ColumnHeaderCell>
                  </Table.Row>
                </Table.Header>
                <Table.Body>
                  {m.deliveries.map((d) => (
                    <Table.Row key={d.endpointId} align="center">
                      <Table.RowHeaderCell>
                        <Text className="mono url" size="2">{urlOf(d.endpointId)}</Text>
                      </Table.RowHeaderCell>
                      <Table.Cell>
                        <Flex direction="column" gap="1" align="start">
                          <StatusBadge status={d.status} />
                          {d.waitingFor && (
                            <Text size="1" color="gray">
                              In order: waits for <Code variant="ghost">{d.waitingFor}</Code>
                            </Text>
                          )}
                        </Flex>
                      </Table.Cell>
                      <Table.Cell>{d.attempts}</Table.Cell>
                      <Table.Cell>
                        <Flex direction="column">
                          <Text size="2">{d.lastStatusCode ?? '—'}</Text>
                          {d.status === 'failed' && d.failureReason && (
                            <Text size="1" color="red">
                              {d.failureReason}
                            </Text>
                          )}
                        </Flex>
                      </Table.Cell>
                      <Table.Cell>
                        {!props.readOnly && (
                          <Button size="1" variant="soft" loading={redeliver.busy === d.endpointId} disabled={d.status === 'pending'} onClick={() => again(d.endpointId)} aria-label={`Redeliver to ${urlOf(d.endpointId)}`}>
                            Redeliver
                          </Button>
                        )}
                      </Table.Cell>
                    </Table.Row>
                  ))}
                </Table.Body>
              </DataTable>
            )}
          </Card>

          <Card size="3">
            <Heading as="h2" size="3" mb="3">
              Attempts
            </Heading>
            <ErrorCallout error={attempts.error} retry={attempts.reload} />
            {(attempts.data ?? []).length === 0 ? (
              <Text size="2" color="gray">No attempt yet.</Text>
            ) : (
              <AttemptsTable
                label="Attempts"
                rows={attempts.data ?? []}
                columns={[
                  {
                    header: 'Endpoint',
                    cell: (a) => (
                      <Text className="mono url" size="2">
                        {urlOf(a.endpointId)}
                      </Text>
                    ),
                  },
                ]}
                detailsLabel={(a) => `Details of attempt ${a.attempt} to ${urlOf(a.endpointId)}`}
                onDetails={setOpen}
              />
            )}
          </Card>

          <Card size="3">
            <Heading as="h2" size="3" mb="3">
              Payload
            </Heading>
            <DataList.Root size="2" mb="3">
              <DataList.Item>
                <DataList.Label>Created</DataList.Label>
                <DataList.Value>{formatRelative(m.createdAt)}</DataList.Value>
              </DataList.Item>
            </DataList.Root>
            <TextBlock text={JSON.stringify(m.payload, null, 2)} label="Payload" />
          </Card>
        </>
      )}
      <AttemptSheet attemptId={open} onClose={() => setOpen(null)} />
    </Flex>
  );
}
