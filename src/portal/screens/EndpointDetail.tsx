import { ArrowLeftIcon, Pencil1Icon, TrashIcon } from '@radix-ui/react-icons';
import { Badge, Box, Button, Flex, Heading, Link, Skeleton, Tabs, Text } from '@radix-ui/themes';
import { useState } from 'react';
import { api, unwrap } from '../api/client';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ErrorCallout } from '../components/ErrorCallout';
import { useLoad } from '../hooks';
import { EndpointAttempts } from './EndpointAttempts';
import { EndpointOverview } from './EndpointOverview';
import { SigningSecret } from './SigningSecret';
import { TestEvent } from './TestEvent';

export function EndpointDetail(props: { id: string; readOnly: boolean; onBack: () => void; onEdit: () => void; onDeleted: () => void; onOpenMessage: (id: string) => void }) {
  const endpoint = useLoad(() => unwrap(api.GET('/endpoints/{id}', { params: { path: { id: props.id } } })), [props.id]);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Error>();
  const e = endpoint.data;

  const setDisabled = async (disabled: boolean) => {
    setBusy(true);
    setFailure(undefined);
    try {
      await unwrap(api.PATCH('/endpoints/{id}', { params: { path: { id: props.id } }, body: { disabled } }));
      endpoint.reload();
    } catch (err) {
      setFailure(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    try {
      await unwrap(api.DELETE('/endpoints/{id}', { params: { path: { id: props.id } } }));
      props.onDeleted();
    } catch (err) {
      setFailure(err as Error);
      setConfirmDelete(false);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Flex direction="column" gap="4">
      <Box>
        <Link asChild size="2" color="gray">
          <button type="button" className="link-button" onClick={props.onBack}>
            <ArrowLeftIcon aria-hidden="true" /> All endpoints
          </button>
        </Link>
      </Box>
      <ErrorCallout error={endpoint.error ?? failure} retry={endpoint.error ? endpoint.reload : undefined} />
      {!e && endpoint.loading && <Skeleton height="64px" />}
      {e && (
        <>
          <Flex justify="between" align="start" gap="4" wrap="wrap">
            <Box className="min-w-0">
              <Flex align="center" gap="2" wrap="wrap">
                <Heading as="h1" size="5" className="mono url">
                  {e.url}
                </Heading>
                {e.disabled && <Badge color="gray">Disabled</Badge>}
              </Flex>
              <Text as="p" size="2" color="gray" mt="1">
                {e.description || 'No description'}
              </Text>
            </Box>
            {!props.readOnly && (
              <Flex gap="2" wrap="wrap">
                <Button variant="soft" color="gray" onClick={props.onEdit}>
                  <Pencil1Icon aria-hidden="true" /> Edit
                </Button>
                <Button variant="soft" color={e.disabled ? 'green' : 'gray'} highContrast={e.disabled} loading={busy && !confirmDelete} onClick={() => setDisabled(!e.disabled)}>
                  {e.disabled ? 'Enable' : 'Disable'}
                </Button>
                {/* highContrast: red-11 on red-3 is under WCAG's 4.5:1 for text. */}
                <Button variant="soft" color="red" highContrast onClick={() => setConfirmDelete(true)}>
                  <TrashIcon aria-hidden="true" /> Delete
                </Button>
              </Flex>
            )}
          </Flex>

          <Tabs.Root defaultValue="overview">
            <Tabs.List aria-label="Endpoint sections">
              <Tabs.Trigger value="overview">Overview</Tabs.Trigger>
              <Tabs.Trigger value="attempts">Attempts</Tabs.Trigger>
              <Tabs.Trigger value="test">Testing</Tabs.Trigger>
              <Tabs.Trigger value="secret">Signing secret</Tabs.Trigger>
            </Tabs.List>
            <Box pt="4">
              <Tabs.Content value="overview">
                <EndpointOverview endpoint={e} onOpenMessage={props.onOpenMessage} />
              </Tabs.Content>
              <Tabs.Content value="attempts">
                <EndpointAttempts endpoint={e} readOnly={props.readOnly} onOpenMessage={props.onOpenMessage} />
              </Tabs.Content>
              <Tabs.Content value="test">
                <TestEvent endpoint={e} readOnly={props.readOnly} />
              </Tabs.Content>
              <Tabs.Content value="secret">
                <SigningSecret endpoint={e} readOnly={props.readOnly} />
              </Tabs.Content>
            </Box>
          </Tabs.Root>

          <ConfirmDialog
            open={confirmDelete}
            title="Delete this endpoint?"
            confirmLabel="Delete endpoint"
            danger
            busy={busy}
            onConfirm={remove}
            onClose={() => setConfirmDelete(false)}
          >
            <Text as="p" className="url mono">{e.url}</Text>
            <Text as="p" mt="2">
              It will stop receiving events at once. Its delivery history stays for your records. This cannot be undone.
            </Text>
          </ConfirmDialog>
        </>
      )}
    </Flex>
  );
}
