import { accessSync, constants } from 'node:fs';

/** The browser the browser tests drive through playwright-core: Debian's Chromium, or CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Why the browser tests cannot run, in one sentence, or undefined when Chromium is there. */
export function chromiumMissing(): string | undefined {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return undefined;
  } catch {
    return `No Chromium at ${CHROMIUM_PATH}, and the browser tests need one: install it with \`apt-get install -y chromium\`, or set CHROMIUM_PATH to a Chromium or Chrome executable.`;
  }
}
