import { Box, Text } from '@radix-ui/themes';

/**
 * What a receiver or a producer wrote, shown as text: React puts it in a text node, so markup in a
 * response body (`<img onerror=…>`) is displayed, never parsed.
 */
export function TextBlock({ text, label, empty = 'Empty' }: { text: string; label: string; empty?: string }) {
  if (text === '') {
    return (
      <Text size="2" color="gray" as="p">
        {empty}
      </Text>
    );
  }
  return (
    <Box className="text-block">
      <pre aria-label={label} tabIndex={0}>
        {text}
      </pre>
    </Box>
  );
}

export function HeaderList({ headers, label }: { headers: Record<string, string>; label: string }) {
  const entries = Object.entries(headers);
  if (entries.length === 0) return <TextBlock text="" label={label} empty="No headers" />;
  return <TextBlock label={label} text={entries.map(([name, value]) => `${name}: ${value}`).join('\n')} />;
}
