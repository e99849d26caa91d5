import { PlusIcon } from '@radix-ui/react-icons';
import { Badge, Box, Button, Card, Flex, Heading, Link, Skeleton, Table, Text } from '@radix-ui/themes';
import { api, unwrap, type Endpoint } from '../api/client';
import { loadStats, type EndpointStats } from '../api/stats';
import { Sparkline } from '../components/DeliveryChart';
import { DataTable } from '../components/DataTable';
import { ErrorCallout } from '../components/ErrorCallout';
import { StateBadge } from '../components/StateBadge';
import { useLoad } from '../hooks';

export function EndpointsList(props: { tenantId: string; readOnly: boolean; onOpen: (id: string) => void; onAdd: () => void }) {
  const endpoints = useLoad(async () => (await unwrap(api.GET('/endpoints', { params: { query: { tenantId: props.tenantId } } }))).data, [props.tenantId]);
  const list = endpoints.data ?? [];

  return (
    <Flex direction="column" gap="4">
      <Flex justify="between" align="end" gap="3" wrap="wrap">
        <Box>
          <Heading as="h1" size="6">
            Endpoints
          </Heading>
          <Text as="p" size="2" color="gray">
            The URLs that receive your webhooks, and how each is doing over the last 24 hours.
          </Text>
        </Box>
        {!props.readOnly && (
          <Button onClick={props.onAdd} size="2">
            <PlusIcon aria-hidden="true" /> Add endpoint
          </Button>
        )}
      </Flex>
      <ErrorCallout error={endpoints.error} retry={endpoints.reload} />
      {endpoints.loading && !endpoints.data && (
        <Card>
          <Skeleton height="120px" />
        </Card>
      )}
      {endpoints.data && list.length === 0 && (
        <Card size="4">
          <Flex direction="column" align="center" gap="3" py="6">
            <Heading as="h2" size="4">
              No endpoints yet
            </Heading>
            <Text size="2" color="gray" align="center">
              Add the URL of a server you control; we will POST a signed request to it for every event.
            </Text>
            {!props.readOnly && (
              <Button onClick={props.onAdd}>
                <PlusIcon aria-hidden="true" /> Add your first endpoint
              </Button>
            )}
          </Flex>
        </Card>
      )}
      {list.length > 0 && (
        <Card size="1" className="flush">
          <DataTable label="Endpoints" variant="ghost">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeaderCell>Endpoint</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Last 24 hours</Table.ColumnHeaderCell>
                <Table.ColumnHeaderCell>Events</Table.ColumnHeaderCell>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {list.map((e) => (
                <EndpointRow key={e.id} endpoint={e} onOpen={() => props.onOpen(e.id)} />
              ))}
            </Table.Body>
          </DataTable>
        </Card>
      )}
    </Flex>
  );
}

function EndpointRow({ endpoint, onOpen }: { endpoint: Endpoint; onOpen: () => void }) {
  const stats = useLoad(() => loadStats(endpoint.id, '24h'), [endpoint.id, endpoint.updatedAt]);
  return (
    <Table.Row align="center" className="clickable-row" onClick={onOpen}>
      <Table.RowHeaderCell>
        <Flex direction="column" gap="1">
          <Link asChild weight="medium" className="mono url">
            <button type="button" className="link-button" onClick={(ev) => { ev.stopPropagation(); onOpen(); }}>
              {endpoint.url}
            </button>
          </Link>
          {endpoint.description && (
            <Text size="1" color="gray" className="truncate">
              {endpoint.description}
            </Text>
          )}
        </Flex>
      </Table.RowHeaderCell>
      <Table.Cell>{stats.data ? <StateBadge state={stats.data.state} /> : <Skeleton width="80px" height="20px" />}</Table.Cell>
      <Table.Cell>{stats.data ? <Health24h stats={stats.data} /> : <Skeleton width="160px" height="28px" />}</Table.Cell>
      <Table.Cell>
        {endpoint.eventTypes.length === 0 ? (
          <Badge color="gray" variant="surface">All types</Badge>
        ) : (
          <Flex gap="1" wrap="wrap">
            {endpoint.eventTypes.slice(0, 2).map((t) => (
              <Badge key={t} color="gray" variant="surface" className="mono">
                {t}
              </Badge>
            ))}
            {endpoint.eventTypes.length > 2 && <Badge color="gray" variant="surface">+{endpoint.eventTypes.length - 2}</Badge>}
          </Flex>
        )}
      </Table.Cell>
    </Table.Row>
  );
}

function Health24h({ stats }: { stats: EndpointStats }) {
  const total = stats.totals.succeeded + stats.totals.failed;
  const rate = total === 0 ? null : (100 * stats.totals.succeeded) / total;
  return (
    <Flex align="center" gap="3">
      <Sparkline stats={stats} />
      <Text size="1" color="gray">
        {rate === null ? 'No deliveries' : `${Number(rate.toFixed(1))}% of ${total} succeeded`}
      </Text>
    </Flex>
  );
}
