import { Flex, Text } from '@radix-ui/themes';
import type { EndpointStats } from '../api/stats';
import { formatBucketLabel, formatDateTime } from '../format';

// Drawn at about its usual size on screen and scaled to the card's width, keeping its proportions (and so its text's).
const WIDTH = 960;
const HEIGHT = 200;
const AXIS = 28;
const TOP = 8;
// Room on the left for the scale's labels, so no bar covers them.
const LEFT = 36;
const LABELS = 6;

/** Successes and failures per bucket as stacked bars: green below, red on top. */
export function DeliveryChart({ stats, label }: { stats: EndpointStats; label: string }) {
  const { buckets, totals, bucketSeconds } = stats;
  const peak = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed));
  const slot = (WIDTH - LEFT) / Math.max(1, buckets.length);
  const bar = Math.max(2, slot * 0.7);
  const plot = HEIGHT - AXIS - TOP;
  const y = (n: number) => (n / peak) * plot;
  const every = Math.max(1, Math.ceil(buckets.length / LABELS));
  const summary = `${label}: ${totals.succeeded} succeeded, ${totals.failed} failed`;

  return (
    <figure className="chart">
      <Flex gap="4" align="center" mb="2" asChild>
        <figcaption>
          <Text size="2" className="legend legend-succeeded" data-testid="chart-succeeded">
            {totals.succeeded} succeeded
          </Text>
          <Text size="2" className="legend legend-failed" data-testid="chart-failed">
            {totals.failed} failed
          </Text>
        </figcaption>
      </Flex>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary}>
        <line className="axis" x1={LEFT} x2={WIDTH} y1={TOP + plot} y2={TOP + plot} />
        <line className="grid" x1={LEFT} x2={WIDTH} y1={TOP} y2={TOP} />
        <line className="grid" x1={LEFT} x2={WIDTH} y1={TOP + plot / 2} y2={TOP + plot / 2} />
        <text className="tick" x={LEFT - 8} y={TOP + 4} textAnchor="end">
          {peak}
        </text>
        <text className="tick" x={LEFT - 8} y={TOP + plot + 4} textAnchor="end">
          0
        </text>
        {buckets.map((b, i) => {
          const x = LEFT + i * slot + (slot - bar) / 2;
          const ok = y(b.succeeded);
          const bad = y(b.failed);
          return (
            <g key={b.start}>
              <title>{`${formatDateTime(b.start)}: ${b.succeeded} succeeded, ${b.failed} failed`}</title>
              <rect className="bar-hit" x={LEFT + i * slot} y={TOP} width={slot} height={plot} />
              {b.succeeded > 0 && <rect className="bar-succeeded" x={x} y={TOP + plot - ok} width={bar} height={ok} rx={1.5} />}
              {b.failed > 0 && <rect className="bar-failed" x={x} y={TOP + plot - ok - bad} width={bar} height={bad} rx={1.5} />}
              {i % every === 0 && (
                <text className="tick" x={LEFT + i * slot + 2} y={HEIGHT - 8} textAnchor="start">
                  {formatBucketLabel(b.start, bucketSeconds, bucketSeconds * buckets.length)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** A tiny chart for the endpoints list: the share of failures per bucket, no axes. */
export function Sparkline({ stats }: { stats: EndpointStats }) {
  const { buckets } = stats;
  const peak = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed));
  const w = 120;
  const h = 28;
  const slot = w / Math.max(1, buckets.length);
  return (
    <svg className="sparkline" viewBox={`0 0 ${w} ${h}`} width={w} height={h} aria-hidden="true">
      {buckets.map((b, i) => {
        const ok = (b.succeeded / peak) * h;
        const bad = (b.failed / peak) * h;
        return (
          <g key={b.start}>
            {b.succeeded > 0 && <rect className="bar-succeeded" x={i * slot} y={h - ok} width={Math.max(1, slot - 1)} height={ok} />}
            {b.failed > 0 && <rect className="bar-failed" x={i * slot} y={h - ok - bad} width={Math.max(1, slot - 1)} height={bad} />}
            {b.succeeded + b.failed === 0 && <rect className="bar-empty" x={i * slot} y={h - 2} width={Math.max(1, slot - 1)} height={2} />}
          </g>
        );
      })}
    </svg>
  );
}
