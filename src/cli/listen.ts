import { createServer } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/**
 * `hookflow listen`: a local receiver for developing webhook handlers. It verifies each delivery's
 * Standard Webhooks signature with the endpoint's secret, prints what arrived, and answers 204, or 400
 * with the reason when verification fails. There is no public tunnel: point an endpoint at it from a
 * hookflow you run yourself (ALLOW_PRIVATE_NETWORK=true).
 */
export function listen(o: { port: number; secret: string; host: string; print: (line: string) => void }): Promise<{ port: number; close(): Promise<void> }> {
  const webhook = new Webhook(o.secret);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      try {
        const event = webhook.verify(body, headers) as { id?: string; type?: string; tenantId?: string; data?: unknown };
        o.print(`✓ ${new Date().toISOString()} ${req.method} ${req.url} ${event.type ?? '?'} id=${headers['webhook-id']} tenant=${event.tenantId ?? '?'} ${JSON.stringify(event.data ?? event)}`);
        res.writeHead(204).end();
      } catch (err) {
        const reason = err instanceof WebhookVerificationError ? err.message : 'the body is not JSON';
        o.print(`✗ ${new Date().toISOString()} ${req.method} ${req.url} rejected: ${reason} (id=${headers['webhook-id'] || 'none'})`);
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`${reason}\n`);
      }
    });
  });
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : o.port;
      resolveListen({ port, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}
