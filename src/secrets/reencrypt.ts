/**
 * One-off, after setting or rotating HOOKFLOW_ENCRYPTION_KEY: seals every endpoint's signing secrets and
 * credential headers under the current key, so the keys in HOOKFLOW_ENCRYPTION_KEYS_OLD can be retired without waiting
 * for each endpoint's next write. Safe while hookflow runs, and to run again. Exits 1 when some secret
 * opens with none of the configured keys (those endpoints are listed by id; no secret is printed).
 *
 *   DATABASE_URL=… HOOKFLOW_ENCRYPTION_KEY=… HOOKFLOW_ENCRYPTION_KEYS_OLD=… npm run reencrypt-secrets
 */
import { ConfigError, loadConfig } from '../config';
import { resealSecrets, useSecretBox } from '../db/endpoints';
import { createPool } from '../db/pool';
import { createLogger } from '../observability/logger';
import { createSecretBox } from './secret-box';

// At LOG_LEVEL once the configuration is read; a configuration that cannot be read is reported at info.
let log = createLogger('info');
try {
  const config = loadConfig();
  log = createLogger(config.logLevel);
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL must be set to re-encrypt secrets.');
  const db = createPool(config.databaseUrl, 2);
  useSecretBox(db, createSecretBox({ current: config.encryption.key, old: config.encryption.oldKeys }));
  try {
    const { checked, resealed, unreadable } = await resealSecrets(db);
    log.info({ checked, resealed, keyId: config.encryption.key?.id ?? null }, 'endpoint secrets and credential headers re-encrypted');
    if (unreadable.length > 0) {
      log.error({ endpointIds: unreadable }, 'these endpoints have secrets sealed with a key that is not configured');
      process.exitCode = 1;
    }
  } finally {
    await db.end();
  }
} catch (err) {
  log.error({ err }, err instanceof ConfigError ? err.message : 're-encryption failed');
  process.exitCode = 1;
}
