import { CheckCircledIcon, CrossCircledIcon, ExclamationTriangleIcon } from '@radix-ui/react-icons';
import { Card, Code, Flex, Grid, Heading, Spinner, Text, TextArea } from '@radix-ui/themes';
import { useEffect, useId, useRef, useState } from 'react';
import type { EventType } from '../api/client';
import { sampleEvent, testFilter, type Sample, type Verdict } from '../filter';
import { formatDateTime } from '../format';
import { Field, describedBy } from './Field';
import { NativeSelect } from './Select';

/** How long typing pauses before the filter is tried on the sample. */
const TRY_AFTER_MS = 300;

/**
 * The endpoint's payload filter: its JSON, a sample event to try it on (the last event of a chosen type
 * this tenant sent, or the type's example), and hookflow's own answer, matches or not, as one types.
 */
export function FilterEditor(props: { tenantId: string; value: string; onChange: (text: string) => void; types: EventType[]; error?: string }) {
  const id = useId();
  const [typeName, setTypeName] = useState('');
  const type = props.types.find((t) => t.name === typeName) ?? props.types[0];
  const [sample, setSample] = useState<Sample>();
  const [sampleText, setSampleText] = useState('');
  const [verdict, setVerdict] = useState<Verdict | 'checking'>({ kind: 'empty' });
  const latest = useRef(0);

  useEffect(() => {
    if (!type) return;
    let current = true;
    sampleEvent(type, props.tenantId).then(
      (s) => {
        if (!current) return;
        setSample(s);
        setSampleText(s.text);
      },
      () => current && setSample(undefined),
    );
    return () => {
      current = false;
    };
  }, [type?.name, props.tenantId]);

  useEffect(() => {
    const run = ++latest.current;
    if (props.value.trim() === '') {
      setVerdict({ kind: 'empty' });
      return;
    }
    setVerdict('checking');
    const timer = window.setTimeout(() => {
      void testFilter(props.value, sampleText || '{}').then((v) => run === latest.current && setVerdict(v));
    }, TRY_AFTER_MS);
    return () => window.clearTimeout(timer);
  }, [props.value, sampleText]);

  return (
    <Card size="3">
      <Flex direction="column" gap="4">
        <div>
          <Heading as="h2" size="3" id={`${id}-heading`}>
            Filter
          </Heading>
          <Text as="p" size="2" color="gray" mt="1">
            Only events that match the filter are sent to this endpoint. Empty: every event of the types above.
          </Text>
        </div>
        <Grid columns={{ initial: '1', md: '2' }} gap="4">
          <Field
            id={`${id}-filter`}
            label="Filter (JSON)"
            hint="Keys match the event as your endpoint receives it. Operators: $eq $neq $gt $gte $lt $lte $in $nin $startsWith $endsWith $exist $and $or $not."
            error={props.error}
          >
            <TextArea
              id={`${id}-filter`}
              className="code-input"
              rows={13}
              spellCheck={false}
              placeholder={'{\n  "data": {\n    "amount": { "$gte": 1000 }\n  }\n}'}
              value={props.value}
              onChange={(e) => props.onChange(e.target.value)}
              aria-invalid={props.error || (verdict !== 'checking' && verdict.kind === 'invalid') ? true : undefined}
              aria-describedby={[describedBy(`${id}-filter`, true, props.error), `${id}-verdict`].filter(Boolean).join(' ')}
            />
          </Field>
          <Flex direction="column" gap="3" role="group" aria-labelledby={`${id}-try`}>
            <Text size="2" weight="medium" id={`${id}-try`} className="visually-hidden">
              Try the filter on a sample event
            </Text>
            <Flex direction="column" gap="1">
              <Text as="label" size="2" weight="medium" htmlFor={`${id}-type`}>
                Sample event type
              </Text>
              <NativeSelect
                id={`${id}-type`}
                value={type?.name ?? ''}
                onChange={(e) => setTypeName(e.target.value)}
                options={props.types.length === 0 ? [{ value: '', label: 'No event types in the catalog' }] : props.types.map((t) => ({ value: t.name, label: t.name }))}
              />
            </Flex>
            <Field
              id={`${id}-sample`}
              label="Sample event"
              hint={
                sample?.source === 'last'
                  ? `The last ${type?.name} you sent, at ${formatDateTime(sample.at!)}. Edit it to try other values.`
                  : type
                    ? `An example ${type.name} event made from its schema: you have not sent one yet. Edit it to try other values.`
                    : 'Write an event to try the filter on.'
              }
            >
              <TextArea id={`${id}-sample`} className="code-input" rows={9} spellCheck={false} value={sampleText} onChange={(e) => setSampleText(e.target.value)} aria-describedby={`${id}-sample-hint`} />
            </Field>
          </Flex>
        </Grid>
        <div id={`${id}-verdict`} role="status" aria-live="polite" aria-atomic="true" className="verdict">
          <VerdictLine verdict={verdict} />
        </div>
      </Flex>
    </Card>
  );
}

function VerdictLine({ verdict }: { verdict: Verdict | 'checking' }) {
  if (verdict === 'checking') {
    return (
      <Flex gap="2" align="center">
        <Spinner size="1" />
        <Text size="2" color="gray">Checking the filter…</Text>
      </Flex>
    );
  }
  switch (verdict.kind) {
    case 'empty':
      return <Text size="2" color="gray">No filter: every event of the chosen types is sent.</Text>;
    case 'matches':
      return (
        <Flex gap="2" align="center">
          <CheckCircledIcon color="var(--green-11)" aria-hidden="true" />
          <Text size="2" color="green" weight="medium">Matches: this event would be sent to this endpoint.</Text>
        </Flex>
      );
    case 'no-match':
      return (
        <Flex gap="2" align="center">
          <CrossCircledIcon color="var(--orange-11)" aria-hidden="true" />
          <Text size="2" color="orange" weight="medium">Doesn't match: this event would not be sent to this endpoint.</Text>
        </Flex>
      );
    case 'invalid':
      return (
        <Flex gap="2" align="start">
          <ExclamationTriangleIcon color="var(--red-11)" aria-hidden="true" className="verdict-icon" />
          <Flex direction="column" gap="1">
            <Text size="2" color="red" weight="medium">The filter has a problem:</Text>
            {verdict.problems.map((p) => (
              <Text size="2" color="red" key={`${p.path}:${p.message}`}>
                <Code color="red" variant="ghost">{p.path}</Code> {p.message}
              </Text>
            ))}
          </Flex>
        </Flex>
      );
    case 'failed':
      return <Text size="2" color="red">Could not try the filter: {verdict.message}</Text>;
  }
}
