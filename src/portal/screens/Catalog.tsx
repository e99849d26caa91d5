import { Card, Code, Flex, Heading, Skeleton, Text } from '@radix-ui/themes';
import { api, unwrap } from '../api/client';
import { ErrorCallout } from '../components/ErrorCallout';
import { TextBlock } from '../components/TextBlock';
import { useLoad } from '../hooks';
import { examplePayload } from '../sample';

/** The event types this platform sends, each with an example payload generated from its schema. */
export function Catalog() {
  const catalog = useLoad(async () => ((await unwrap(api.GET('/event-types', {}))).data ?? []), []);
  return (
    <Flex direction="column" gap="4">
      <div>
        <Heading as="h1" size="6">
          Event catalog
        </Heading>
        <Text as="p" size="2" color="gray">
          The events you can subscribe an endpoint to.
        </Text>
      </div>
      <ErrorCallout error={catalog.error} retry={catalog.reload} />
      {!catalog.data && catalog.loading && <Skeleton height="160px" />}
      {catalog.data?.length === 0 && (
        <Card size="3">
          <Text size="2" color="gray">No event types are defined yet.</Text>
        </Card>
      )}
      {catalog.data?.map((t) => (
        <Card key={t.name} size="3" asChild>
          <section aria-labelledby={`type-${t.name}`}>
            <Heading as="h2" size="3" id={`type-${t.name}`}>
              <Code variant="ghost">{t.name}</Code>
            </Heading>
            <Text as="p" size="2" color="gray" mt="1" mb="3">
              {t.description || 'No description'}
            </Text>
            <Text as="p" size="1" weight="medium" color="gray" mb="1">
              Example payload
            </Text>
            <TextBlock label={`Example payload of ${t.name}`} text={JSON.stringify(examplePayload(t.schema), null, 2)} />
          </section>
        </Card>
      ))}
    </Flex>
  );
}
