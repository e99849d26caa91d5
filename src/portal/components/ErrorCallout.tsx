import { ExclamationTriangleIcon } from '@radix-ui/react-icons';
import { Button, Callout, Flex } from '@radix-ui/themes';

export function ErrorCallout({ error, retry }: { error: Error | undefined; retry?: () => void }) {
  if (!error) return null;
  return (
    <Callout.Root color="red" role="alert">
      <Callout.Icon>
        <ExclamationTriangleIcon aria-hidden="true" />
      </Callout.Icon>
      <Flex align="center" gap="3" justify="between" asChild>
        <Callout.Text>
          {error.message}
          {retry && (
            <Button size="1" variant="soft" color="red" onClick={retry}>
              Try again
            </Button>
          )}
        </Callout.Text>
      </Flex>
    </Callout.Root>
  );
}
