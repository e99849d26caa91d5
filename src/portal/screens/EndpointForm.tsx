import { Cross2Icon, PlusIcon } from '@radix-ui/react-icons';
import { Box, Button, Callout, Card, Checkbox, Code, Flex, Heading, IconButton, Link, RadioGroup, Text, TextArea, TextField } from '@radix-ui/themes';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { ApiFailure, api, unwrap, type Endpoint, type EventType } from '../api/client';
import { Field, describedBy } from '../components/Field';
import { FilterEditor } from '../components/FilterEditor';
import { TextBlock } from '../components/TextBlock';
import { useLoad } from '../hooks';
import { endpointFilterText, syntaxProblem } from '../filter';
import { examplePayload } from '../sample';

/**
 * What the API shows instead of a credential header's value (Authorization, or a name with token, secret,
 * key, auth or password). Sent back as it is, it keeps the stored value, so editing an endpoint never asks
 * for its credentials again.
 */
const MASK = '********';

/** `stored`: a credential the API keeps and will not show; an empty value keeps it. */
type HeaderDraft = { name: string; value: string; stored: boolean };

type Draft = {
  url: string;
  description: string;
  allTypes: boolean;
  eventTypes: string[];
  channels: string;
  headers: HeaderDraft[];
  rateLimit: string;
  retrySchedule: string;
  /** The filter's JSON text as written; '' = none. */
  filter: string;
  inOrder: boolean;
};

const splitList = (text: string) => text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);

function draftOf(e?: Endpoint): Draft {
  return {
    url: e?.url ?? '',
    description: e?.description ?? '',
    allTypes: !e || e.eventTypes.length === 0,
    eventTypes: e?.eventTypes ?? [],
    channels: e?.channels.join(', ') ?? '',
    headers: Object.entries(e?.headers ?? {}).map(([name, value]) => (value === MASK ? { name, value: '', stored: true } : { name, value, stored: false })),
    rateLimit: e?.rateLimitPerSecond ? String(e.rateLimitPerSecond) : '',
    retrySchedule: e?.retrySchedule?.join(', ') ?? '',
    filter: '',
    inOrder: e?.ordering === 'fifo',
  };
}

/**
 * The request body with the filter spliced in as the text written: JSON.parse and JSON.stringify would
 * round its long numbers (12345678901234567890) and drop trailing zeros (10.10).
 */
function withFilter(fields: unknown, filter: string, editing: boolean): string {
  const json = JSON.stringify(fields);
  if (filter.trim() === '') return editing ? `${json.slice(0, -1)},"filter":null}` : json;
  return `${json.slice(0, -1)},"filter":${filter}}`;
}

/** Errors by field for the form; a filter's problems keep their path inside the filter. */
function fieldErrors(details: { path: string; message: string }[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const d of details) {
    const path = d.path.replace(/^body\./, '');
    const field = path.split('.')[0] ?? '';
    const message = field === 'filter' && path !== 'filter' ? `${path}: ${d.message}` : d.message;
    errors[field] = errors[field] ? `${errors[field]}; ${message}` : message;
  }
  return errors;
}

export function EndpointForm(props: { tenantId: string; endpoint?: Endpoint; onSaved: (e: Endpoint) => void; onCancel: () => void }) {
  const editing = props.endpoint !== undefined;
  const [draft, setDraft] = useState<Draft>(() => draftOf(props.endpoint));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();
  const [saving, setSaving] = useState(false);
  const catalog = useLoad(() => unwrap(api.GET('/event-types', {})), []);
  const id = useId();
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  // The filter is read as the endpoint's own JSON text, so its numbers keep their digits in the editor.
  const editedId = props.endpoint?.id;
  useEffect(() => {
    if (!editedId) return;
    let current = true;
    endpointFilterText(editedId).then((filter) => current && setDraft((d) => (d.filter === '' ? { ...d, filter } : d)), () => undefined);
    return () => {
      current = false;
    };
  }, [editedId]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaving(true);
    setErrors({});
    setFailure(undefined);
    const notJson = draft.filter.trim() === '' ? undefined : syntaxProblem(draft.filter, 'filter');
    if (notJson) {
      setSaving(false);
      setErrors({ filter: notJson.message });
      return setFailure('The filter is not valid JSON.');
    }
    const headers = Object.fromEntries(draft.headers.filter((h) => h.name.trim()).map((h) => [h.name.trim(), h.stored && h.value === '' ? MASK : h.value]));
    const fields = {
      url: draft.url.trim(),
      description: draft.description,
      eventTypes: draft.allTypes ? [] : draft.eventTypes,
      channels: splitList(draft.channels),
      headers,
      rateLimitPerSecond: draft.rateLimit.trim() ? Number(draft.rateLimit) : null,
      retrySchedule: draft.retrySchedule.trim() ? splitList(draft.retrySchedule) : null,
      ordering: draft.inOrder ? ('fifo' as const) : ('unordered' as const),
    };
    try {
      const saved = editing
        ? await unwrap(api.PATCH('/endpoints/{id}', { params: { path: { id: props.endpoint!.id } }, body: fields, bodySerializer: (b) => withFilter(b, draft.filter, true) }))
        : await unwrap(api.POST('/endpoints', { body: { tenantId: props.tenantId, ...fields }, bodySerializer: (b) => withFilter(b, draft.filter, false) }));
      props.onSaved(saved);
    } catch (err) {
      if (err instanceof ApiFailure && err.details.length > 0) setErrors(fieldErrors(err.details));
      setFailure((err as Error).message);
    } finally {
      setSaving(false);
    }
  };

  const types = catalog.data?.data ?? [];

  return (
    <form onSubmit={submit} noValidate aria-labelledby={`${id}-title`}>
      <Flex direction="column" gap="4">
        <Flex justify="between" align="center">
          <Heading as="h1" size="6" id={`${id}-title`}>
            {editing ? 'Edit endpoint' : 'Add endpoint'}
          </Heading>
        </Flex>
        {failure && (
          <Callout.Root color="red" role="alert">
            <Callout.Text>{failure}</Callout.Text>
          </Callout.Root>
        )}
        <Card size="3">
          <Flex direction="column" gap="4">
            <Field id={`${id}-url`} label="Endpoint URL" hint="Where we POST each event. It must be reachable from the internet." error={errors.url}>
              <TextField.Root
                id={`${id}-url`}
                type="url"
                required
                placeholder="https://example.com/webhooks"
                value={draft.url}
                onChange={(e) => set('url', e.target.value)}
                aria-invalid={errors.url ? true : undefined}
                aria-describedby={describedBy(`${id}-url`, true, errors.url)}
              />
            </Field>
            <Field id={`${id}-description`} label="Description" hint="Optional; only you see it." error={errors.description}>
              <TextArea id={`${id}-description`} value={draft.description} onChange={(e) => set('description', e.target.value)} aria-describedby={describedBy(`${id}-description`, true, errors.description)} />
            </Field>
          </Flex>
        </Card>

        <Card size="3">
          <fieldset className="plain">
            <legend>
              <Heading as="h2" size="3">
                Events to send
              </Heading>
            </legend>
            <RadioGroup.Root value={draft.allTypes ? 'all' : 'some'} onValueChange={(v) => set('allTypes', v === 'all')} mt="3" aria-label="Events to send">
              <RadioGroup.Item value="all">Every event type, including ones added later</RadioGroup.Item>
              <RadioGroup.Item value="some">Only the types I choose</RadioGroup.Item>
            </RadioGroup.Root>
            {!draft.allTypes && (
              <Flex direction="column" gap="2" mt="3" role="group" aria-label="Event types">
                {catalog.loading && !catalog.data && <Text size="2" color="gray">Loading the event catalog…</Text>}
                {types.length === 0 && !catalog.loading && <Text size="2" color="gray">No event types are defined yet.</Text>}
                {types.map((t) => (
                  <EventTypeChoice
                    key={t.name}
                    type={t}
                    checked={draft.eventTypes.includes(t.name)}
                    onChange={(on) => set('eventTypes', on ? [...draft.eventTypes, t.name] : draft.eventTypes.filter((n) => n !== t.name))}
                  />
                ))}
              </Flex>
            )}
            {errors.eventTypes && <Text size="1" color="red" role="alert">{errors.eventTypes}</Text>}
          </fieldset>
        </Card>

        <FilterEditor
          tenantId={props.tenantId}
          value={draft.filter}
          onChange={(text) => set('filter', text)}
          types={draft.allTypes ? types : types.filter((t) => draft.eventTypes.includes(t.name))}
          error={errors.filter}
        />

        <Card size="3">
          <Flex direction="column" gap="2">
            <Heading as="h2" size="3">
              Delivery order
            </Heading>
            <Flex gap="3" align="start">
              <Checkbox id={`${id}-order`} checked={draft.inOrder} onCheckedChange={(v) => set('inOrder', v === true)} mt="1" aria-describedby={`${id}-order-hint`} />
              <Flex direction="column" gap="1">
                <Text as="label" htmlFor={`${id}-order`} size="2" weight="medium">
                  Deliver in order
                </Text>
                <Text size="1" color="gray" id={`${id}-order-hint`}>
                  One event at a time, in the order they were sent. An event is sent only once the one before it was delivered or
                  failed for good, so a failing event holds back the events after it — except those with another ordering key.
                  {editing && ' A change applies to events sent after it.'}
                </Text>
              </Flex>
            </Flex>
            {errors.ordering && <Text size="1" color="red" role="alert">{errors.ordering}</Text>}
          </Flex>
        </Card>

        <Card size="3">
          <Flex direction="column" gap="4">
            <Heading as="h2" size="3">
              Advanced
            </Heading>
            <Field id={`${id}-channels`} label="Channels" hint="Comma-separated. When set, only events sent to one of these channels arrive here." error={errors.channels}>
              <TextField.Root id={`${id}-channels`} placeholder="project-42, eu" value={draft.channels} onChange={(e) => set('channels', e.target.value)} aria-describedby={describedBy(`${id}-channels`, true, errors.channels)} />
            </Field>
            <fieldset className="plain">
              <legend>
                <Text size="2" weight="medium">Custom headers</Text>
              </legend>
              <Text size="1" color="gray" as="p" mb="2" id={`${id}-headers-hint`}>
                Sent with every delivery, e.g. an authorization token your server expects. Credentials (Authorization, or a name
                with token, secret, key, auth or password) are stored encrypted and never shown again: leave one empty to keep it.
              </Text>
              <Flex direction="column" gap="2">
                {draft.headers.map((h, i) => (
                  <Flex gap="2" key={i} align="center">
                    <TextField.Root
                      aria-label={`Header ${i + 1} name`}
                      placeholder="X-Api-Key"
                      value={h.name}
                      onChange={(e) => set('headers', draft.headers.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))}
                      className="grow"
                    />
                    <TextField.Root
                      aria-label={`Header ${i + 1} value`}
                      aria-describedby={h.stored ? `${id}-headers-hint` : undefined}
                      type={h.stored ? 'password' : 'text'}
                      autoComplete="off"
                      placeholder={h.stored ? 'Stored, unchanged' : 'value'}
                      value={h.value}
                      onChange={(e) => set('headers', draft.headers.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))}
                      className="grow"
                    />
                    <IconButton type="button" variant="ghost" color="gray" aria-label={`Remove header ${i + 1}`} onClick={() => set('headers', draft.headers.filter((_, j) => j !== i))}>
                      <Cross2Icon aria-hidden="true" />
                    </IconButton>
                  </Flex>
                ))}
                <Box>
                  <Button type="button" variant="soft" color="gray" onClick={() => set('headers', [...draft.headers, { name: '', value: '', stored: false }])}>
                    <PlusIcon aria-hidden="true" /> Add header
                  </Button>
                </Box>
              </Flex>
              {errors.headers && <Text size="1" color="red" role="alert">{errors.headers}</Text>}
            </fieldset>
            <Flex gap="4" wrap="wrap">
              <Box className="grow">
                <Field id={`${id}-rate`} label="Rate limit (deliveries per second)" hint="Empty: no limit." error={errors.rateLimitPerSecond}>
                  <TextField.Root id={`${id}-rate`} inputMode="numeric" value={draft.rateLimit} onChange={(e) => set('rateLimit', e.target.value)} aria-describedby={describedBy(`${id}-rate`, true, errors.rateLimitPerSecond)} />
                </Field>
              </Box>
              <Box className="grow">
                <Field id={`${id}-retry`} label="Retry schedule" hint="Delays between attempts, e.g. 10s, 1m, 10m, 1h, adding up to at most a day. Empty: exponential backoff for a day." error={errors.retrySchedule}>
                  <TextField.Root id={`${id}-retry`} placeholder="10s, 1m, 10m, 1h" value={draft.retrySchedule} onChange={(e) => set('retrySchedule', e.target.value)} aria-describedby={describedBy(`${id}-retry`, true, errors.retrySchedule)} />
                </Field>
              </Box>
            </Flex>
          </Flex>
        </Card>

        <Flex gap="3" justify="end">
          <Button type="button" variant="soft" color="gray" onClick={props.onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={saving}>
            {editing ? 'Save changes' : 'Create endpoint'}
          </Button>
        </Flex>
      </Flex>
    </form>
  );
}

function EventTypeChoice({ type, checked, onChange }: { type: EventType; checked: boolean; onChange: (on: boolean) => void }) {
  const [showExample, setShowExample] = useState(false);
  const id = useId();
  return (
    <Box className="choice">
      <Flex gap="3" align="start">
        <Checkbox id={id} checked={checked} onCheckedChange={(v) => onChange(v === true)} mt="1" aria-describedby={`${id}-d`} />
        <Flex direction="column" gap="1" className="grow">
          <Text as="label" htmlFor={id} size="2" weight="medium">
            <Code variant="ghost">{type.name}</Code>
          </Text>
          <Text size="1" color="gray" id={`${id}-d`}>
            {type.description || 'No description'}
          </Text>
          <Box>
            <Link asChild size="1">
              <button type="button" className="link-button" aria-expanded={showExample} onClick={() => setShowExample((s) => !s)}>
                {showExample ? 'Hide example payload' : 'Show example payload'}
              </button>
            </Link>
          </Box>
          {showExample && <TextBlock label={`Example payload of ${type.name}`} text={JSON.stringify(examplePayload(type.schema), null, 2)} />}
        </Flex>
      </Flex>
    </Box>
  );
}
