import { Badge, Text } from '@radix-ui/themes';
import type { HealthState } from '../api/stats';
import { formatDateTime, formatRelative } from '../format';

const LOOK = {
  healthy: { color: 'green', label: 'Healthy' },
  failing: { color: 'red', label: 'Failing' },
  disabled: { color: 'gray', label: 'Disabled' },
  idle: { color: 'blue', label: 'No recent traffic' },
} as const;

export function StateBadge({ state }: { state: HealthState }) {
  const look = LOOK[state.status];
  return (
    <Badge color={look.color} variant="soft" radius="full" size="2" highContrast>
      <span className={`dot dot-${state.status}`} aria-hidden="true" />
      {look.label}
    </Badge>
  );
}

/** "Failing since 10:42 (5 minutes ago)", "Disabled because the endpoint answered 410 Gone". */
export function StateSentence({ state }: { state: HealthState }) {
  const since = state.since ? (
    <>
      {' since '}
      <time dateTime={state.since} title={formatDateTime(state.since)}>
        {formatRelative(state.since)}
      </time>
    </>
  ) : null;
  const text = {
    healthy: <>The latest deliveries succeeded</>,
    failing: <>Failing{since}{state.reason ? <>: {state.reason}</> : null}</>,
    disabled: <>Disabled{since}{state.reason ? <> because {state.reason}</> : null}</>,
    idle: <>No deliveries in this period</>,
  }[state.status];
  return (
    <Text as="p" size="2" color={state.status === 'failing' ? 'red' : 'gray'}>
      {text}
    </Text>
  );
}
