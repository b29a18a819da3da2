// GraphiQL as an analyst opens it: in chromium with every host but 127.0.0.1 unreachable,
// so the page, its scripts, styles and editor workers must all come from the service itself.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphiqlOptions } from '../src/graphql/graphiql-examples.ts';
import { launchChromium, skipBrowserTests } from './browser.ts';
import { createTenant, startTestApp } from './kit.ts';

const skipBrowser = skipBrowserTests('test/graphiql-browser.test.ts');

/** Page load with 9 MB of inlined assets on a busy machine, then one request. */
const STEP_MS = 60_000;

const app = await startTestApp({}, { workers: false });
const development = await startTestApp({ NODE_ENV: 'development' }, { workers: false });

const graphiqlPage = async (yoga: typeof app.yoga) =>
  (await yoga.fetch('http://yoga/graphql', { headers: { accept: 'text/html' } })).text();

describe('GraphiQL example tabs', () => {
  it('open in development with the demo community id in the variables of the tab that needs it, elsewhere with none', async () => {
    // The demo setup's top community, as `npm start` makes it on a fresh development database.
    const { prisma } = development.services;
    const demo =
      (await prisma.community.findFirst({
        where: { name: 'Demo MSSP', parentId: null },
        orderBy: { createdAt: 'asc' },
      })) ?? (await prisma.community.create({ data: { name: 'Demo MSSP' } }));
    const demoId = encodeGlobalID('Community', demo.id);

    const tabs = (await graphiqlOptions(development.services)).defaultTabs ?? [];
    expect(tabs.map((tab) => (tab.variables ? JSON.parse(tab.variables) : null))).toEqual([
      null,
      { communityId: demoId },
      null,
      null,
      null,
      null,
    ]);
    expect(tabs[1].query).toContain('mutation CreateCollection($communityId: ID!)');
    expect(await graphiqlPage(development.yoga)).toContain(demoId);

    const elsewhere = (await graphiqlOptions(app.services)).defaultTabs ?? [];
    expect(elsewhere.every((tab) => tab.variables === undefined)).toBe(true);
    expect(await graphiqlPage(app.yoga)).not.toContain(demoId);
  });
});

describe.skipIf(skipBrowser)('GraphiQL in chromium with no network but the service', () => {
  let browser: Browser | undefined;

  beforeAll(async () => {
    browser = await launchChromium(['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1']);
  }, STEP_MS);

  afterAll(async () => {
    await browser?.close();
  });

  it('loads everything from the service, and the first example tab, run with a key pasted in the Headers tab, shows data', async () => {
    const { url } = await app.http();
    const tenant = await createTenant(app);
    const context = await browser!.newContext({ viewport: { width: 1600, height: 1000 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    await page.goto(`${url}/graphql`);
    await expect(page.title()).resolves.toBe('IOC Collections');
    const tabs = page.locator('.graphiql-tab-button');
    await tabs.first().waitFor();
    expect(await tabs.allTextContents()).toEqual([
      'WhoAmI',
      'Collections',
      'ImportText',
      'Indicators',
      'GenerateReport',
      'Notifications',
    ]);

    // The Headers tab opens with the Authorization header to complete; the analyst pastes the key.
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    const headersEditor = page.getByRole('region', { name: 'Headers' }).getByRole('code');
    await headersEditor.getByText('Bearer <your API key>').waitFor();
    await page.evaluate(
      (headers) => navigator.clipboard.writeText(headers),
      JSON.stringify({ Authorization: `Bearer ${tenant.client.key}` }),
    );
    await headersEditor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('ControlOrMeta+V');

    await page.getByRole('button', { name: /^Execute query/ }).click();
    const result = page.locator('.graphiql-response');
    // The answer's text with every space and line break dropped (the editor wraps long lines).
    const compact = async () => ((await result.innerText()) ?? '').replace(/\s+/g, '');
    await expect.poll(compact, { timeout: STEP_MS }).toContain(`"communities":[{"id":"${tenant.communityId}"`);
    expect(await compact()).toContain('"data":{"viewer":{"user":');

    // As the first tab says: with the key in place, re-fetching the schema fills the docs.
    await page.getByRole('button', { name: /^Re-fetch GraphQL schema/ }).click();
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await expect
      .poll(() => page.locator('.graphiql-doc-explorer').innerText(), { timeout: STEP_MS })
      .toMatch(/Root Types[\s\S]*query: Query[\s\S]*mutation: Mutation/);

    const origins = new Set(requested.map((address) => new URL(address).origin));
    expect([...origins].filter((origin) => origin !== url && !origin.startsWith('blob:') && origin !== 'null')).toEqual(
      [],
    );
    // The resolver rule holds: a CDN is out of reach from this browser.
    expect(
      await page.evaluate(() =>
        fetch('https://unpkg.com/graphiql/graphiql.min.css').then(
          () => 'reached',
          () => 'unreachable',
        ),
      ),
    ).toBe('unreachable');
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 180_000);
});
