import { Button, Code, Table } from '@radix-ui/themes';
import type { ReactNode } from 'react';
import type { Attempt } from '../api/client';
import { formatDateTime, formatDuration, formatRelative } from '../format';
import { StatusBadge } from './AttemptSheet';
import { DataTable } from './DataTable';

/** A column a screen adds between an attempt's response and its duration (the message, the endpoint…). */
export type AttemptColumn = { header: string; cell: (a: Attempt) => ReactNode };

/**
 * Attempts as a table, the same on every screen that lists them: status, response (status code or
 * error), the screen's own columns, duration, when, and a button that opens the attempt's details.
 */
export function AttemptsTable(props: {
  label: string;
  rows: Attempt[];
  columns: AttemptColumn[];
  /** Shows a failed attempt's response in red. */
  redWhenFailed?: boolean;
  /** The Details button's accessible name, which says which attempt it opens. */
  detailsLabel: (a: Attempt) => string;
  onDetails: (id: string) => void;
}) {
  return (
    <DataTable label={props.label} size="2">
      <Table.Header>
        <Table.Row>
          <Table.ColumnHeaderCell>Status</Table.ColumnHeaderCell>
          <Table.ColumnHeaderCell>Response</Table.ColumnHeaderCell>
          {props.columns.map((c) => (
            <Table.ColumnHeaderCell key={c.header}>{c.header}</Table.ColumnHeaderCell>
          ))}
          <Table.ColumnHeaderCell>Duration</Table.ColumnHeaderCell>
          <Table.ColumnHeaderCell>When</Table.ColumnHeaderCell>
          <Table.ColumnHeaderCell>
            <span className="visually-hidden">Details</span>
          </Table.ColumnHeaderCell>
        </Table.Row>
      </Table.Header>
      <Table.Body>
        {props.rows.map((a) => (
          <Table.Row key={a.id} align="center">
            <Table.Cell>
              <StatusBadge status={a.status} />
            </Table.Cell>
            <Table.Cell>
              <Code variant="ghost" color={props.redWhenFailed && a.status === 'failed' ? 'red' : undefined}>
                {a.statusCode ?? a.error ?? '—'}
              </Code>
            </Table.Cell>
            {props.columns.map((c) => (
              <Table.Cell key={c.header}>{c.cell(a)}</Table.Cell>
            ))}
            <Table.Cell>{formatDuration(a.durationMs)}</Table.Cell>
            <Table.Cell>
              <time dateTime={a.createdAt} title={formatDateTime(a.createdAt)}>
                {formatRelative(a.createdAt)}
              </time>
            </Table.Cell>
            <Table.Cell>
              <Button size="1" variant="soft" onClick={() => props.onDetails(a.id)} aria-label={props.detailsLabel(a)}>
                Details
              </Button>
            </Table.Cell>
          </Table.Row>
        ))}
      </Table.Body>
    </DataTable>
  );
}
