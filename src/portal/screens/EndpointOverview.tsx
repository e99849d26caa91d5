import { Badge, Card, Code, DataList, Flex, Heading, SegmentedControl, Skeleton, Text } from '@radix-ui/themes';
import { useState } from 'react';
import type { Endpoint } from '../api/client';
import { loadStats, type Period } from '../api/stats';
import { DeliveryChart } from '../components/DeliveryChart';
import { ErrorCallout } from '../components/ErrorCallout';
import { StateBadge, StateSentence } from '../components/StateBadge';
import { formatDateTime } from '../format';
import { useInterval, useLoad } from '../hooks';
import { EndpointQueue } from './EndpointQueue';

const PERIOD_LABEL: Record<Period, string> = { '24h': 'Last 24 hours', '7d': 'Last 7 days' };

export function EndpointOverview({ endpoint, onOpenMessage }: { endpoint: Endpoint; onOpenMessage: (id: string) => void }) {
  const [period, setPeriod] = useState<Period>('24h');
  const stats = useLoad(() => loadStats(endpoint.id, period), [endpoint.id, endpoint.updatedAt, period]);
  useInterval(stats.reload, 10_000, true);

  return (
    <Flex direction="column" gap="4">
      <Card size="3">
        <Flex justify="between" align="start" gap="3" wrap="wrap" mb="3">
          <Flex direction="column" gap="1">
            <Heading as="h2" size="3">
              Deliveries
            </Heading>
            {stats.data && (
              <Flex align="center" gap="2">
                <StateBadge state={stats.data.state} />
                <StateSentence state={stats.data.state} />
              </Flex>
            )}
          </Flex>
          <SegmentedControl.Root value={period} onValueChange={(v) => setPeriod(v as Period)} aria-label="Chart period">
            <SegmentedControl.Item value="24h">24 hours</SegmentedControl.Item>
            <SegmentedControl.Item value="7d">7 days</SegmentedControl.Item>
          </SegmentedControl.Root>
        </Flex>
        <ErrorCallout error={stats.error} retry={stats.reload} />
        {stats.data ? <DeliveryChart stats={stats.data} label={PERIOD_LABEL[period]} /> : !stats.error && <Skeleton height="200px" />}
      </Card>

      <EndpointQueue endpoint={endpoint} onOpenMessage={onOpenMessage} />

      <Card size="3">
        <Heading as="h2" size="3" mb="3">
          Configuration
        </Heading>
        <DataList.Root size="2">
          <DataList.Item>
            <DataList.Label>Endpoint id</DataList.Label>
            <DataList.Value>
              <Code variant="ghost">{endpoint.id}</Code>
            </DataList.Value>
          </DataList.Item>
          <DataList.Item>
            <DataList.Label>Event types</DataList.Label>
            <DataList.Value>
              <Flex gap="1" wrap="wrap">
                {endpoint.eventTypes.length === 0 ? <Text>All types</Text> : endpoint.eventTypes.map((t) => <Badge key={t} color="gray" variant="surface" className="mono">{t}</Badge>)}
              </Flex>
            </DataList.Value>
          </DataList.Item>
          <DataList.Item>
            <DataList.Label>Channels</DataList.Label>
            <DataList.Value>{endpoint.channels.length === 0 ? 'Any' : endpoint.channels.join(', ')}</DataList.Value>
          </DataList.Item>
          <DataList.Item>
            <DataList.Label>Custom headers</DataList.Label>
            <DataList.Value>{Object.keys(endpoint.headers).length === 0 ? 'None' : Object.keys(endpoint.headers).join(', ')}</DataList.Value>
          </DataList.Item>
          <DataList.Item>
            <DataList.Label>Delivery order</DataList.Label>
            <DataList.Value>{endpoint.ordering === 'fifo' ? 'In order, one at a time' : 'Any order, in parallel'}</DataList.Value>
          </DataList.Item>
          <DataList.Item>
            <DataList.Label>Rate limit</DataList.Label>
            <DataList.Value>{endpoint.rateLimitPerSecond ? `${endpoint.rateLimitPerSecond} per second` : 'No limit'}</DataList.Value>
          </DataList.Item>
          <DataList.Item>
            <DataList.Label>Retry schedule</DataList.Label>
            <DataList.Value>{endpoint.retrySchedule ? endpoint.retrySchedule.join(' → ') : 'Exponential backoff for up to a day'}</DataList.Value>
          </DataList.Item>
          {endpoint.disabledReason && (
            <DataList.Item>
              <DataList.Label>Disabled because</DataList.Label>
              <DataList.Value>{endpoint.disabledReason}</DataList.Value>
            </DataList.Item>
          )}
          <DataList.Item>
            <DataList.Label>Created</DataList.Label>
            <DataList.Value>{formatDateTime(endpoint.createdAt)}</DataList.Value>
          </DataList.Item>
        </DataList.Root>
      </Card>
    </Flex>
  );
}
