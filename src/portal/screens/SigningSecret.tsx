import { EyeOpenIcon, ReloadIcon } from '@radix-ui/react-icons';
import { Box, Button, Callout, Card, Code, Flex, Heading, Tabs, Text } from '@radix-ui/themes';
import { useState } from 'react';
import { api, unwrap, type Endpoint } from '../api/client';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { CopyButton } from '../components/CopyButton';
import { ErrorCallout } from '../components/ErrorCallout';
import { TextBlock } from '../components/TextBlock';
import { verifySnippets } from '../snippets';

const MASK = 'whsec_••••••••••••••••••••••••••••••••';

export function SigningSecret({ endpoint, readOnly }: { endpoint: Endpoint; readOnly: boolean }) {
  const [secret, setSecret] = useState<string>();
  const [state, setState] = useState<{ busy: boolean; error?: Error; rotated?: boolean }>({ busy: false });
  const [confirm, setConfirm] = useState(false);

  const reveal = async () => {
    setState({ busy: true });
    try {
      setSecret(((await unwrap(api.GET('/endpoints/{id}/secret', { params: { path: { id: endpoint.id } } })))).secret);
      setState({ busy: false });
    } catch (err) {
      setState({ busy: false, error: err as Error });
    }
  };
  const rotate = async () => {
    setState({ busy: true });
    try {
      const result = (await unwrap(api.POST('/endpoints/{id}/secret/rotate', { params: { path: { id: endpoint.id } }, body: {} })));
      setSecret(result.secret);
      setState({ busy: false, rotated: true });
    } catch (err) {
      setState({ busy: false, error: err as Error });
    }
    setConfirm(false);
  };

  return (
    <Flex direction="column" gap="4">
      <Card size="3">
        <Heading as="h2" size="3">
          Signing secret
        </Heading>
        <Text as="p" size="2" color="gray" mb="3">
          Every delivery is signed with this secret (Standard Webhooks). Check the signature before you trust a request.
        </Text>
        {readOnly ? (
          <Text as="p" size="2" color="gray">
            Read-only access cannot see the signing secret.
          </Text>
        ) : (
          <Flex gap="2" align="center" wrap="wrap">
            <Code size="3" variant="soft" className="secret" aria-label={secret ? 'Signing secret' : 'Signing secret, hidden'} data-testid="secret">
              {secret ?? MASK}
            </Code>
            {secret ? (
              <CopyButton value={secret} label="Copy signing secret" />
            ) : (
              <Button variant="soft" color="gray" onClick={reveal} loading={state.busy && !confirm}>
                <EyeOpenIcon aria-hidden="true" /> Reveal
              </Button>
            )}
            <Button variant="soft" color="gray" onClick={() => setConfirm(true)}>
              <ReloadIcon aria-hidden="true" /> Rotate
            </Button>
          </Flex>
        )}
        <Box mt="3" aria-live="polite">
          {state.rotated && (
            <Callout.Root color="green" size="1">
              <Callout.Text>Rotated. For the next 24 hours deliveries are signed with both the new and the previous secret.</Callout.Text>
            </Callout.Root>
          )}
        </Box>
        <ErrorCallout error={state.error} />
      </Card>

      <Card size="3">
        <Heading as="h2" size="3" mb="3">
          How to verify
        </Heading>
        <Tabs.Root defaultValue="Node.js">
          <Tabs.List aria-label="Language">
            {verifySnippets('').map((s) => (
              <Tabs.Trigger key={s.language} value={s.language}>
                {s.language}
              </Tabs.Trigger>
            ))}
          </Tabs.List>
          {verifySnippets(secret ? 'the secret above' : 'your endpoint secret').map((s) => (
            <Tabs.Content key={s.language} value={s.language}>
              <Flex direction="column" gap="2" pt="3">
                <Flex align="center" justify="between" gap="2">
                  <Code variant="ghost">{s.install}</Code>
                  <CopyButton value={s.code} label={`Copy the ${s.language} example`} />
                </Flex>
                <TextBlock text={s.code} label={`${s.language} example`} />
              </Flex>
            </Tabs.Content>
          ))}
        </Tabs.Root>
      </Card>

      <ConfirmDialog open={confirm} title="Rotate the signing secret?" confirmLabel="Rotate secret" busy={state.busy} onConfirm={rotate} onClose={() => setConfirm(false)}>
        A new secret is generated now. The previous one keeps signing deliveries for 24 hours, so update your server within a day.
      </ConfirmDialog>
    </Flex>
  );
}
