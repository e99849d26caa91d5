import type { Db } from './pool';

export type EventTypeRow = { name: string; description: string; schema: object | null; created_at: Date; updated_at: Date };

export async function upsertEventType(db: Db, t: { name: string; description: string; schema: object | null }): Promise<{ row: EventTypeRow; created: boolean }> {
  const { rows } = await db.query<EventTypeRow & { created: boolean }>(
    `INSERT INTO event_types (name, description, schema) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, schema = EXCLUDED.schema, updated_at = now()
     RETURNING *, (xmax = 0) AS created`,
    [t.name, t.description, t.schema === null ? null : JSON.stringify(t.schema)],
  );
  const { created, ...row } = rows[0]!;
  return { row, created };
}

export async function listEventTypes(db: Db): Promise<EventTypeRow[]> {
  const { rows } = await db.query<EventTypeRow>('SELECT name, description, schema, created_at, updated_at FROM event_types ORDER BY name');
  return rows;
}

export async function getEventType(db: Db, name: string): Promise<EventTypeRow | undefined> {
  const { rows } = await db.query<EventTypeRow>('SELECT name, description, schema, created_at, updated_at FROM event_types WHERE name = $1', [name]);
  return rows[0];
}
