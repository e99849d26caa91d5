import { Skeleton } from '@radix-ui/themes';
import { api, unwrap } from '../api/client';
import { ErrorCallout } from '../components/ErrorCallout';
import { useLoad } from '../hooks';
import { EndpointForm } from './EndpointForm';

export function EndpointEdit(props: { id: string; tenantId: string; onDone: () => void }) {
  const endpoint = useLoad(() => unwrap(api.GET('/endpoints/{id}', { params: { path: { id: props.id } } })), [props.id]);
  if (endpoint.error) return <ErrorCallout error={endpoint.error} retry={endpoint.reload} />;
  if (!endpoint.data) return <Skeleton height="400px" />;
  return <EndpointForm tenantId={props.tenantId} endpoint={endpoint.data} onSaved={props.onDone} onCancel={props.onDone} />;
}
