import { Badge, Card, Code, Flex, Heading, Link, Table, Text } from '@radix-ui/themes';
import { api, unwrap, type Endpoint } from '../api/client';
import { DataTable } from '../components/DataTable';
import { ErrorCallout } from '../components/ErrorCallout';
import { useInterval, useLoad } from '../hooks';

const STATE = {
  delivering: { color: 'blue', label: 'Delivering' },
  held: { color: 'gray', label: 'Held: endpoint disabled' },
  blocked: { color: 'amber', label: 'Waiting for an earlier event' },
  starting: { color: 'blue', label: 'Starting the next' },
} as const;

/**
 * An in-order endpoint's queue: how many events wait, and what each ordering key's queue waits for. Shown
 * for an endpoint made unordered too while events accepted before the change still wait.
 */
export function EndpointQueue({ endpoint, onOpenMessage }: { endpoint: Endpoint; onOpenMessage: (id: string) => void }) {
  const queue = useLoad(() => unwrap(api.GET('/endpoints/{id}/queue', { params: { path: { id: endpoint.id }, query: { limit: 20 } } })), [endpoint.id, endpoint.updatedAt]);
  useInterval(queue.reload, 5_000, endpoint.ordering === 'fifo' || (queue.data?.waiting ?? 0) > 0);
  const q = queue.data;
  if (endpoint.ordering !== 'fifo' && !q?.queues.length) return null;
  const message = (id: string) => (
    <Link asChild size="2">
      <button type="button" className="link-button mono" onClick={() => onOpenMessage(id)}>
        {id}
      </button>
    </Link>
  );

  return (
    <Card size="3">
      <Heading as="h2" size="3" mb="1">
        Queue
      </Heading>
      <Text as="p" size="2" color="gray" mb="3">
        Events go to this endpoint one at a time, in the order they were sent; each ordering key has a queue of its own.
      </Text>
      <ErrorCallout error={queue.error} retry={queue.reload} />
      {q && (
        <>
          <Text as="p" size="2" mb={q.queues.length ? '3' : '0'} aria-live="polite">
            {q.waiting === 0 ? 'No event is waiting.' : `${q.waiting} ${q.waiting === 1 ? 'event waits' : 'events wait'} for ${q.waiting === 1 ? 'its' : 'their'} turn.`}
          </Text>
          {q.queues.length > 0 && (
            <DataTable label="Queues by ordering key" size="2">
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeaderCell>Ordering key</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Waiting</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>State</Table.ColumnHeaderCell>
                  <Table.ColumnHeaderCell>Waits for</Table.ColumnHeaderCell>
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {q.queues.map((row) => (
                  <Table.Row key={row.orderingKey ?? ''} align="center">
                    <Table.RowHeaderCell>{row.orderingKey ? <Code variant="ghost">{row.orderingKey}</Code> : <Text color="gray">No key</Text>}</Table.RowHeaderCell>
                    <Table.Cell>{row.waiting}</Table.Cell>
                    <Table.Cell>
                      <Badge color={STATE[row.state].color} variant="soft" highContrast>
                        {STATE[row.state].label}
                      </Badge>
                    </Table.Cell>
                    <Table.Cell>{row.waitingFor ? message(row.waitingFor) : <Text color="gray">—</Text>}</Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </DataTable>
          )}
          {q.nextCursor && (
            <Flex mt="2">
              <Text size="1" color="gray">
                The first {q.queues.length} keys are shown.
              </Text>
            </Flex>
          )}
        </>
      )}
    </Card>
  );
}
