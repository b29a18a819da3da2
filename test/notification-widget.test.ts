// The notification widget of examples/notification-widget in a real browser: Debian's
// chromium, headless, driven by playwright-core, against the real service over HTTP and
// WebSocket (a real port, CORS included, since the page comes from another origin).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notify } from '../src/modules/notifications/service.ts';
import { launchChromium, skipBrowserTests } from './browser.ts';
import {
  createCollection,
  createTenant,
  expectMember,
  fromGlobalId,
  importText,
  startTestApp,
  type Tenant,
} from './kit.ts';
import { GenerateTelemetryReport } from './documents.ts';

const skipBrowser = skipBrowserTests('test/notification-widget.test.ts');

/** Each browser step: page loads, WebSocket round trips, a report job through the queue. */
const STEP_MS = 30_000;

interface WidgetServer {
  url: string;
  widgetUrl: string;
  close(): Promise<void>;
}
// A plain JavaScript module (the example has no build step): loaded by URL, typed here.
const { startWidgetServer } = (await import(
  new URL('../examples/notification-widget/serve.mjs', import.meta.url).href
)) as { startWidgetServer: (options: { host?: string; port?: number; root?: string }) => Promise<WidgetServer> };

// In development, as `npm start` runs: the default CORS policy lets the widget's page (served
// from another port of 127.0.0.1) call the API, with no CORS_ORIGINS to set.
const app = await startTestApp({ NODE_ENV: 'development' });

const DAY_MS = 86_400_000;
/** `daysAgo` days before today (UTC), at `hour`:00 UTC: always in the past for daysAgo ≥ 1. */
function utcAt(daysAgo: number, hour: number): Date {
  const date = new Date(Date.now() - daysAgo * DAY_MS);
  date.setUTCHours(hour, 0, 0, 0);
  return date;
}

/** Seen five times on three days, then twice on two days; the other two never. */
const MOST_SEEN = '203.0.113.7';
const LESS_SEEN = '198.51.100.23';
const EVENTS: { ip: string; at: Date }[] = [
  { ip: MOST_SEEN, at: utcAt(4, 9) },
  { ip: MOST_SEEN, at: utcAt(2, 10) },
  { ip: MOST_SEEN, at: utcAt(2, 11) },
  { ip: MOST_SEEN, at: utcAt(1, 8) },
  { ip: MOST_SEEN, at: utcAt(1, 12) },
  { ip: LESS_SEEN, at: utcAt(3, 14) },
  { ip: LESS_SEEN, at: utcAt(1, 15) },
  // In no collection of the tenant's.
  { ip: '192.0.2.250', at: utcAt(2, 9) },
];
/** Hostile on purpose: rendered anywhere as HTML, it would set window.__pwned. */
const HOSTILE_NAME = `<img src=x onerror="window.__pwned=1"> feed`;

describe.skipIf(skipBrowser)('notification widget in chromium', () => {
  let browser: Browser | undefined;
  let widget: WidgetServer | undefined;
  let apiUrl: string;
  let tenant: Tenant;
  let collectionId: string;
  const screenshots = mkdtempSync(path.join(tmpdir(), 'notification-widget-'));
  /** Console errors and uncaught exceptions of every page, checked at the end. */
  const problems: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    apiUrl = (await app.http()).url;
    tenant = await createTenant(app);
    const collection = await createCollection(tenant.client, { communityId: tenant.communityId, name: HOSTILE_NAME });
    collectionId = collection.id;
    const job = await importText(
      tenant.client,
      collectionId,
      [MOST_SEEN, LESS_SEEN, '192.0.2.44', 'never-seen.widget.example'].join('\n'),
    );
    expect(job).toMatchObject({ status: 'SUCCEEDED', created: 4 });

    const body = EVENTS.map((e) => JSON.stringify({ '@timestamp': e.at.toISOString(), destination: { ip: e.ip } }));
    const response = await fetch(`${apiUrl}/api/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.client.key}`, 'content-type': 'application/x-ndjson' },
      body: body.join('\n') + '\n',
    });
    const answer = await response.json();
    expect({ status: response.status, answer }).toMatchObject({
      status: 200,
      answer: { accepted: EVENTS.length, rejected: 0, errors: [] },
    });

    widget = await startWidgetServer({ host: '127.0.0.1', port: 0 });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await widget?.close();
  });

  async function openWidget(): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(STEP_MS);
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(widget!.widgetUrl);
    return page;
  }

  async function connect(page: Page) {
    await page.getByLabel('API URL').fill(apiUrl);
    await page.getByLabel('API key').fill(tenant.client.key);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await status(page, 'Connected');
  }

  /** Waits until the status text is exactly `text`; says what it was otherwise. */
  async function status(page: Page, text: string) {
    const element = page.getByTestId('status');
    try {
      await element.filter({ hasText: new RegExp(`^${text}$`) }).waitFor();
    } catch (error) {
      throw new Error(`status is ${JSON.stringify(await element.textContent())}, not ${JSON.stringify(text)}`, {
        cause: error,
      });
    }
  }

  /** The notifications as listed, top first. */
  const listed = (page: Page) =>
    page.getByTestId('notification').evaluateAll((items) =>
      items.map((item) => ({
        kind: item.getAttribute('data-kind'),
        read: item.getAttribute('data-read'),
        title: item.querySelector('[data-testid="notification-title"]')?.textContent ?? '',
      })),
    );

  it('lists what was missed, then shows TELEMETRY_REPORT_READY as it is created, and opens the report with its heatmaps', async () => {
    const page = await openWidget();
    await connect(page);

    // The import finished before the page was opened: listed on connect, unread.
    expect(await listed(page)).toEqual([
      { kind: 'IMPORT_FINISHED', read: 'false', title: expect.stringContaining(HOSTILE_NAME) },
    ]);
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));

    const generated = await tenant.client.gql(GenerateTelemetryReport, { input: { collectionId } });
    const reportId = expectMember(generated.generateTelemetryReport, 'GenerateTelemetryReportSuccess').telemetryReport
      .id;

    // Pushed over the WebSocket: no reload, no poll.
    const ready = page.locator('[data-testid="notification"][data-kind="TELEMETRY_REPORT_READY"]');
    await ready.waitFor();
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect((await listed(page))[0]).toMatchObject({ kind: 'TELEMETRY_REPORT_READY', read: 'false' });

    await ready.getByRole('button', { name: 'Open report' }).click();
    const rows = page.getByTestId('report-entry');
    await rows.nth(1).waitFor();
    // Every heatmap fetched with the key and shown from a Blob URL, decoded by the browser.
    await page.waitForFunction(
      () => {
        const images = [...document.querySelectorAll<HTMLImageElement>('[data-testid="report-entry"] img')];
        return images.length === 2 && images.every((img) => img.complete && img.naturalWidth > 0);
      },
      null,
      { timeout: STEP_MS },
    );
    const entries = await rows.evaluateAll((elements) =>
      elements.map((row) => ({
        value: row.querySelector('[data-testid="indicator-value"]')?.textContent,
        sightings: row.querySelector('[data-testid="sightings"]')?.textContent,
        seen: [...row.querySelectorAll('time')].map((time) => new Date(time.dateTime).getTime()),
        image: { src: row.querySelector('img')!.src.slice(0, 5), alt: row.querySelector('img')!.alt },
      })),
    );
    const seen = (ip: string) => EVENTS.filter((e) => e.ip === ip).map((e) => e.at.getTime());
    expect(entries).toEqual([
      {
        value: MOST_SEEN,
        sightings: '5',
        seen: [Math.min(...seen(MOST_SEEN)), Math.max(...seen(MOST_SEEN))],
        image: { src: 'blob:', alt: expect.stringContaining(`Daily sightings of ${MOST_SEEN} `) },
      },
      {
        value: LESS_SEEN,
        sightings: '2',
        seen: [Math.min(...seen(LESS_SEEN)), Math.max(...seen(LESS_SEEN))],
        image: { src: 'blob:', alt: expect.stringContaining(`Daily sightings of ${LESS_SEEN} `) },
      },
    ]);
    expect(await page.getByTestId('report-heading').textContent()).toBe(`Telemetry report: ${HOSTILE_NAME}`);

    // Opening it marked the notification read, on the page and in the service.
    await page.locator('[data-testid="notification"][data-kind="TELEMETRY_REPORT_READY"][data-read="true"]').waitFor();
    const stored = await app.services.prisma.notification.findMany({
      where: { userId: tenant.client.userId, kind: 'TELEMETRY_REPORT_READY' },
    });
    expect(stored).toHaveLength(1);
    expect(stored[0].readAt).not.toBeNull();
    expect(stored[0].subjectId, 'the notification is about the report generated').toBe(fromGlobalId(reportId).id);

    // The hostile collection name stayed text: no element made of it, no script run.
    expect(
      await page.evaluate(() => ({
        pwned: 'pwned' in window || '__pwned' in window,
        strayImages: document.querySelectorAll('img:not([data-heatmap])').length,
      })),
    ).toEqual({ pwned: false, strayImages: 0 });

    const screenshot = path.join(screenshots, 'notification-widget.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.info(`notification widget screenshot: ${screenshot}`);
    await page.close();
    expect(problems).toEqual([]);
  }, 150_000);

  it('shows on (re)connect what was created while the page was closed, disconnected or cut off', async () => {
    const offline = (title: string) =>
      notify(app.services, {
        userId: tenant.client.userId,
        communityId: tenant.communityRawId,
        kind: 'IMPORT_FAILED',
        title,
      });
    await offline('Created while the widget was closed');
    const page = await openWidget();
    // The page's WebSockets go through Playwright, which can cut them and refuse new ones.
    let refuse = false;
    const sockets: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/graphql$/, (socket) => {
      if (refuse) return socket.close({ code: 1013, reason: 'Try Again Later' });
      socket.connectToServer();
      sockets.push(socket);
    });
    await connect(page);
    expect(await listed(page)).toEqual([
      // Unread first (newest first among them), then the read report notification.
      { kind: 'IMPORT_FAILED', read: 'false', title: 'Unread: Created while the widget was closed' },
      { kind: 'IMPORT_FINISHED', read: 'false', title: expect.stringContaining(HOSTILE_NAME) },
      { kind: 'TELEMETRY_REPORT_READY', read: 'true', title: expect.not.stringContaining('Unread') },
    ]);
    expect(await page.getByTestId('unread-count').textContent()).toBe('2 unread');

    await page.getByRole('button', { name: 'Disconnect' }).click();
    await status(page, 'Disconnected');
    await offline('Created while the widget was disconnected');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await status(page, 'Connected');
    expect((await listed(page))[0]).toEqual({
      kind: 'IMPORT_FAILED',
      read: 'false',
      title: 'Unread: Created while the widget was disconnected',
    });
    expect(await page.getByTestId('unread-count').textContent()).toBe('3 unread');

    // The connection drops and cannot come back for a while: the widget retries by itself
    // and, once back, lists what was created meanwhile.
    refuse = true;
    await Promise.all(sockets.splice(0).map((socket) => socket.close({ code: 1012, reason: 'Service Restart' })));
    await status(page, 'Reconnecting…');
    await offline('Created while the connection was down');
    refuse = false;
    await status(page, 'Connected');
    expect((await listed(page))[0]).toEqual({
      kind: 'IMPORT_FAILED',
      read: 'false',
      title: 'Unread: Created while the connection was down',
    });
    expect(await page.getByTestId('unread-count').textContent()).toBe('4 unread');
    await page.close();
    expect(problems).toEqual([]);
  }, 120_000);
});
