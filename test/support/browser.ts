import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { TestStack } from './stack';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = '/usr/bin/chromium';
export const PORTAL_DIR = join(ROOT, 'dist', 'portal');
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'portal');

/** The page as `npm install` builds it; built here when a checkout has not run the prepare script. */
export function ensurePortalBuilt(): void {
  if (existsSync(join(PORTAL_DIR, 'index.html'))) return;
  execFileSync('npm', ['run', 'build:portal'], { cwd: ROOT, stdio: 'inherit' });
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing, and this test needs a real browser: apt-get install -y chromium (.ci/run installs it in CI).`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Everything the page says in its console at error level, its uncaught errors, and every URL it asks for. */
export function watchPage(page: Page): { errors: string[]; urls: string[]; referers: string[] } {
  const seen = { errors: [] as string[], urls: [] as string[], referers: [] as string[] };
  page.on('console', (m) => {
    if (m.type() === 'error') seen.errors.push(m.text());
  });
  page.on('pageerror', (err) => seen.errors.push(err.message));
  page.on('request', (r) => {
    seen.urls.push(r.url());
    const referer = r.headers().referer;
    if (referer) seen.referers.push(referer);
  });
  return seen;
}

/**
 * A customer's portal in Chromium: a session for `tenantId` opened through the stack's API, at 1280×900, its
 * console watched, on the Endpoints screen.
 */
export async function openPortal(
  stack: Pick<TestStack, 'request'>,
  session: { tenantId: string; theme?: Record<string, unknown> },
): Promise<{ browser: Browser; page: Page; seen: ReturnType<typeof watchPage> }> {
  const { body } = await stack.request('POST', '/portal/sessions', session);
  const browser = await launchChromium();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const seen = watchPage(page);
  await page.goto(body.url);
  await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
  return { browser, page, seen };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical findings on the page as it is now. The script is evaluated through
 * the DevTools protocol: the page's own CSP (script-src 'self') rightly refuses an injected <script>.
 */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string; nodes: string[] }[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    type Axe = { run(context: unknown, o: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
    const page = globalThis as unknown as { axe: Axe; document: unknown };
    const result = await page.axe.run(page.document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
