import { Badge, Box, Container, Flex, Heading, Skeleton, TabNav, Text, Theme } from '@radix-ui/themes';
import { useEffect, useState } from 'react';
import { onSessionEnded, type Endpoint } from './api/client';
import { loadMe, type Me } from './api/me';
import { ErrorCallout } from './components/ErrorCallout';
import { brandStyle } from './theme';
import { formatRelative } from './format';
import { useLoad } from './hooks';
import { Catalog } from './screens/Catalog';
import { EndpointDetail } from './screens/EndpointDetail';
import { EndpointEdit } from './screens/EndpointEdit';
import { EndpointForm } from './screens/EndpointForm';
import { EndpointsList } from './screens/EndpointsList';
import { MessageDetail } from './screens/MessageDetail';
import { Messages } from './screens/Messages';

type View =
  | { screen: 'endpoints' }
  | { screen: 'new-endpoint' }
  | { screen: 'endpoint'; id: string }
  | { screen: 'edit-endpoint'; id: string }
  | { screen: 'messages' }
  | { screen: 'message'; id: string; back: View }
  | { screen: 'catalog' };

const SECTION: Record<View['screen'], 'endpoints' | 'messages' | 'catalog'> = {
  endpoints: 'endpoints', 'new-endpoint': 'endpoints', endpoint: 'endpoints', 'edit-endpoint': 'endpoints', messages: 'messages', message: 'messages', catalog: 'catalog',
};

export function App({ hasToken }: { hasToken: boolean }) {
  const me = useLoad(async () => (hasToken ? loadMe() : undefined), [hasToken]);
  const [ended, setEnded] = useState(false);
  useEffect(() => onSessionEnded(() => setEnded(true)), []);
  const theme = me.data?.theme ?? null;
  return (
    <Theme accentColor="indigo" grayColor="slate" radius="medium" scaling="100%" style={brandStyle(theme?.primaryColor)} className="app">
      {!hasToken ? (
        <Expired title="This link is not valid" />
      ) : ended ? (
        <Expired title="Your session has ended" />
      ) : me.error ? (
        <Container size="2" p="6">
          <ErrorCallout error={me.error} />
        </Container>
      ) : !me.data ? (
        <Container size="3" p="6">
          <Skeleton height="300px" />
        </Container>
      ) : (
        <Portal me={me.data} />
      )}
    </Theme>
  );
}

function Portal({ me }: { me: Me }) {
  const [view, setView] = useState<View>({ screen: 'endpoints' });
  const section = SECTION[view.screen];
  const name = me.theme?.name;
  const go = (next: View) => {
    setView(next);
    window.scrollTo(0, 0);
  };

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Container size="4" px="5">
          <Flex align="center" justify="between" gap="4" py="3">
            <Flex align="center" gap="3">
              {me.theme?.logoUrl && <img className="logo" src={me.theme.logoUrl} alt={name ? `${name} logo` : 'Logo'} referrerPolicy="no-referrer" />}
              <Box>
                {name && (
                  <Text as="div" size="1" color="gray">
                    {name}
                  </Text>
                )}
                <Text as="div" size="4" weight="bold">
                  Webhooks
                </Text>
              </Box>
            </Flex>
            <Flex align="center" gap="3">
              {me.readOnly && (
                <Badge color="gray" variant="surface">
                  Read-only
                </Badge>
              )}
              <Text size="1" color="gray">
                Session ends {formatRelative(me.expiresAt)}
              </Text>
            </Flex>
          </Flex>
          <TabNav.Root aria-label="Sections">
            <TabNav.Link href="#" active={section === 'endpoints'} onClick={(e) => { e.preventDefault(); go({ screen: 'endpoints' }); }}>
              Endpoints
            </TabNav.Link>
            <TabNav.Link href="#" active={section === 'messages'} onClick={(e) => { e.preventDefault(); go({ screen: 'messages' }); }}>
              Messages
            </TabNav.Link>
            <TabNav.Link href="#" active={section === 'catalog'} onClick={(e) => { e.preventDefault(); go({ screen: 'catalog' }); }}>
              Event catalog
            </TabNav.Link>
          </TabNav.Root>
        </Container>
      </header>
      <main id="main" tabIndex={-1}>
        <Container size="4" px="5" py="5">
          {view.screen === 'endpoints' && (
            <EndpointsList tenantId={me.tenantId} readOnly={me.readOnly} onOpen={(id) => go({ screen: 'endpoint', id })} onAdd={() => go({ screen: 'new-endpoint' })} />
          )}
          {view.screen === 'new-endpoint' && (
            <EndpointForm tenantId={me.tenantId} onSaved={(e: Endpoint) => go({ screen: 'endpoint', id: e.id })} onCancel={() => go({ screen: 'endpoints' })} />
          )}
          {view.screen === 'endpoint' && (
            <EndpointDetail
              key={view.id}
              id={view.id}
              readOnly={me.readOnly}
              onBack={() => go({ screen: 'endpoints' })}
              onEdit={() => go({ screen: 'edit-endpoint', id: view.id })}
              onDeleted={() => go({ screen: 'endpoints' })}
              onOpenMessage={(id) => go({ screen: 'message', id, back: view })}
            />
          )}
          {view.screen === 'edit-endpoint' && (
            <EndpointEdit id={view.id} tenantId={me.tenantId} onDone={() => go({ screen: 'endpoint', id: view.id })} />
          )}
          {view.screen === 'messages' && <Messages tenantId={me.tenantId} onOpen={(id) => go({ screen: 'message', id, back: view })} />}
          {view.screen === 'message' && <MessageDetail key={view.id} id={view.id} tenantId={me.tenantId} readOnly={me.readOnly} onBack={() => go(view.back)} />}
          {view.screen === 'catalog' && <Catalog />}
        </Container>
      </main>
    </>
  );
}

function Expired({ title }: { title: string }) {
  return (
    <Container size="2" p="6">
      <Flex direction="column" gap="3" align="center" py="9">
        <Heading as="h1" size="6">
          {title}
        </Heading>
        <Text as="p" size="2" color="gray" align="center">
          Portal links carry a session that expires. Open the webhooks page again from the application that sent you here.
        </Text>
      </Flex>
    </Container>
  );
}
