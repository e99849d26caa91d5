import { Badge, Code, DataList, Flex, Heading, Skeleton, Text } from '@radix-ui/themes';
import { loadAttempt } from '../api/attempt';
import { formatDateTime, formatDuration, prettyJson } from '../format';
import { useLoad } from '../hooks';
import { ErrorCallout } from './ErrorCallout';
import { Sheet } from './ConfirmDialog';
import { HeaderList, TextBlock } from './TextBlock';

/** One attempt: what was sent and what came back, every byte of it shown as text. */
export function AttemptSheet({ attemptId, onClose }: { attemptId: string | null; onClose: () => void }) {
  return (
    <Sheet open={attemptId !== null} title="Delivery attempt" onClose={onClose}>
      {attemptId && <AttemptBody id={attemptId} />}
    </Sheet>
  );
}

function AttemptBody({ id }: { id: string }) {
  const attempt = useLoad(() => loadAttempt(id), [id]);
  const a = attempt.data;
  if (attempt.error) return <ErrorCallout error={attempt.error} retry={attempt.reload} />;
  if (!a) return <Skeleton height="240px" />;
  return (
    <Flex direction="column" gap="4">
      <DataList.Root size="2">
        <DataList.Item>
          <DataList.Label>Result</DataList.Label>
          <DataList.Value>
            <Flex gap="2" align="center">
              <StatusBadge status={a.status} />
              {a.statusCode !== null && <Code variant="ghost">HTTP {a.statusCode}</Code>}
            </Flex>
          </DataList.Value>
        </DataList.Item>
        <DataList.Item>
          <DataList.Label>Attempt</DataList.Label>
          <DataList.Value>
            #{a.attempt} · <Code variant="ghost">{a.id}</Code>
          </DataList.Value>
        </DataList.Item>
        <DataList.Item>
          <DataList.Label>Message</DataList.Label>
          <DataList.Value>
            <Code variant="ghost">{a.messageId}</Code>
          </DataList.Value>
        </DataList.Item>
        <DataList.Item>
          <DataList.Label>When</DataList.Label>
          <DataList.Value>{formatDateTime(a.createdAt)}</DataList.Value>
        </DataList.Item>
        <DataList.Item>
          <DataList.Label>Duration</DataList.Label>
          <DataList.Value>{formatDuration(a.durationMs)}</DataList.Value>
        </DataList.Item>
        {a.error && (
          <DataList.Item>
            <DataList.Label>Error</DataList.Label>
            <DataList.Value>
              <Text color="red">{a.error}</Text>
            </DataList.Value>
          </DataList.Item>
        )}
      </DataList.Root>

      <section aria-labelledby={`${id}-req`}>
        <Heading as="h3" size="3" id={`${id}-req`} mb="2">
          Request
        </Heading>
        <Flex direction="column" gap="2">
          {a.request.url && (
            <Text size="2" className="mono url">
              POST {a.request.url}
            </Text>
          )}
          {a.request.headers ? <HeaderList headers={a.request.headers} label="Request headers" /> : <Text size="2" color="gray">Headers not recorded for this attempt.</Text>}
          <TextBlock text={prettyJson(a.request.body)} label="Request body" />
        </Flex>
      </section>

      <section aria-labelledby={`${id}-res`}>
        <Heading as="h3" size="3" id={`${id}-res`} mb="2">
          Response
        </Heading>
        <Flex direction="column" gap="2">
          <Text size="2">{a.response.statusCode === null ? 'No response' : `Status ${a.response.statusCode}`}</Text>
          {a.response.headers && <HeaderList headers={a.response.headers} label="Response headers" />}
          <TextBlock text={a.response.body} label="Response body" empty="Empty body" />
        </Flex>
      </section>
    </Flex>
  );
}

export function StatusBadge({ status }: { status: 'succeeded' | 'failed' | 'pending' }) {
  const color = { succeeded: 'green', failed: 'red', pending: 'amber' } as const;
  const label = { succeeded: 'Succeeded', failed: 'Failed', pending: 'Pending' };
  return (
    <Badge color={color[status]} variant="soft" highContrast>
      {label[status]}
    </Badge>
  );
}
