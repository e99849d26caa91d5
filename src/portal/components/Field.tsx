import { Flex, Text } from '@radix-ui/themes';
import type { ReactNode } from 'react';

/** A labelled form field with its hint and, after a refused save, the server's message for it. */
export function Field(props: { id: string; label: string; hint?: string; error?: string; children: ReactNode }) {
  return (
    <Flex direction="column" gap="1">
      <Text as="label" size="2" weight="medium" htmlFor={props.id}>
        {props.label}
      </Text>
      {props.children}
      {props.hint && (
        <Text size="1" color="gray" id={`${props.id}-hint`}>
          {props.hint}
        </Text>
      )}
      {props.error && (
        <Text size="1" color="red" id={`${props.id}-error`} role="alert">
          {props.error}
        </Text>
      )}
    </Flex>
  );
}

export const describedBy = (id: string, hint: boolean, error?: string) =>
  [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
