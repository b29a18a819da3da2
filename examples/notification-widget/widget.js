// IOC Collections notification widget: a plain browser module, no framework, no build.
//
// On "Connect" it loads the viewer's recent notifications over HTTP (what was missed while
// offline), subscribes to `notificationAdded` over graphql-ws (again after every reconnect,
// with a catch-up query), and opens telemetry reports with their heatmaps.
//
// Every piece of data (titles, collection names, indicator values) is hostile input: it is
// only ever set with textContent or as an attribute value, never parsed as HTML.

/** The graphql-ws browser build (a classic script defining `window.graphqlWs`). */
const GRAPHQL_WS_SCRIPT = new URL('../../node_modules/graphql-ws/umd/graphql-ws.min.js', import.meta.url);
/**
 * The widget's operations (written in operations.graphql) as GraphQL Code Generator stores
 * them: sha256 → document. The widget sends hashes, never document text, so it also works
 * with a service that runs only trusted documents (TRUSTED_DOCUMENTS=only).
 */
const PERSISTED_DOCUMENTS = new URL('./persisted-documents.json', import.meta.url);
const API_URL_STORAGE_KEY = 'ioc-notification-widget:api-url';
/** Notifications asked for on (re)connect, and the most kept on the page. */
const PAGE_SIZE = 20;
const MAX_SHOWN = 50;
/** Report entries shown (most sightings first). */
const REPORT_ENTRIES = 10;
/** Close codes after which reconnecting cannot help: the key was refused, the request was bad. */
const NO_RETRY_CODES = new Set([4400, 4401, 4403, 4406, 4409, 4429, 4500, 4005, 4004]);

const KIND_LABELS = {
  IMPORT_FINISHED: 'Import finished',
  IMPORT_FAILED: 'Import failed',
  TELEMETRY_REPORT_READY: 'Telemetry report ready',
  TELEMETRY_REPORT_FAILED: 'Telemetry report failed',
};

const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const utcTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const utcDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

// ---------------------------------------------------------------------------------------
// DOM helpers: elements built from constants, data only ever as text or attribute values.

/** An element with attributes and children (strings become text nodes). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) element.setAttribute(name, String(value));
  }
  element.append(...children.filter((child) => child !== undefined && child !== null));
  return element;
}

/** A <time> showing `iso` with `format`; the machine-readable value stays in `datetime`. */
function timeElement(iso, format = localTime, suffix = '') {
  const date = new Date(iso);
  const text = Number.isNaN(date.getTime()) ? String(iso) : format.format(date) + suffix;
  return h('time', { datetime: iso }, text);
}

const $ = (selector) => document.querySelector(selector);

const ui = {
  form: $('#connect-form'),
  apiUrl: $('#api-url'),
  apiKey: $('#api-key'),
  connect: $('#connect'),
  disconnect: $('#disconnect'),
  status: $('[data-testid="status"]'),
  unreadCount: $('[data-testid="unread-count"]'),
  list: $('[data-testid="notifications"]'),
  empty: $('#empty'),
  report: $('#report'),
  reportHeading: $('#report-heading'),
  reportPeriod: $('[data-testid="report-period"]'),
  reportBody: $('#report-body'),
  closeReport: $('#close-report'),
};

// ---------------------------------------------------------------------------------------
// State

/** The current connection; replaced on every Connect, so late callbacks of an old one are ignored. */
let session = null;
/** id → { data, element } of the notifications shown, and their order on the page. */
const items = new Map();
let order = [];
let unread = null;
/** Object URLs of the heatmaps on show, revoked when the report is closed or replaced. */
let heatmapUrls = [];
let idCounter = 0;

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function showUnreadCount() {
  ui.unreadCount.textContent =
    unread === null ? '' : unread === 0 ? 'All caught up: no unread notifications.' : `${unread} unread`;
}

function describeError(error) {
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    // A WebSocket close event.
    if (error.code === 4403) return `the API key was refused (${error.code} ${error.reason || 'Forbidden'})`;
    return `the connection closed (${error.code}${error.reason ? ` ${error.reason}` : ''})`;
  }
  if (Array.isArray(error)) return error.map((e) => e?.message ?? String(e)).join('; ');
  if (error instanceof Error) return error.message;
  return String(error);
}

// ---------------------------------------------------------------------------------------
// The API

/** The API base URL the user typed, without a trailing slash; throws a readable error. */
function parseApiUrl(text) {
  let url;
  try {
    url = new URL(text.trim());
  } catch {
    throw new Error(`"${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('the API URL must start with http(s)://');
  url.search = '';
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}

let documentIdsLoading;
/** Loads the persisted documents once; answers operation name → hash. */
function loadDocumentIds() {
  documentIdsLoading ??= fetch(PERSISTED_DOCUMENTS)
    .then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    })
    .then(
      (manifest) =>
        new Map(
          Object.entries(manifest).map(([hash, document]) => [
            /^(?:query|mutation|subscription)\s+(\w+)/.exec(document)?.[1],
            hash,
          ]),
        ),
      (error) => {
        documentIdsLoading = undefined;
        throw new Error(`could not load ${PERSISTED_DOCUMENTS.pathname} (${describeError(error)})`);
      },
    );
  return documentIdsLoading;
}

/** What names a persisted operation in a request: its name and hash (Apollo's extension). */
async function persistedOperation(operationName) {
  const sha256Hash = (await loadDocumentIds()).get(operationName);
  if (!sha256Hash) throw new Error(`${operationName} is not in ${PERSISTED_DOCUMENTS.pathname} (run npm run codegen)`);
  return { operationName, extensions: { persistedQuery: { version: 1, sha256Hash } } };
}

/** A persisted operation (by name) over HTTP POST with the key; answers `data` or throws. */
async function graphqlRequest({ api, key }, operationName, variables) {
  const operation = await persistedOperation(operationName);
  let response;
  try {
    response = await fetch(`${api}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${key}`,
      },
      body: JSON.stringify({ ...operation, variables }),
    });
  } catch {
    throw new Error(`cannot reach ${api}/graphql (is the service running, and does it allow this page's origin?)`);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`HTTP ${response.status} from ${api}/graphql`);
  }
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  if (!response.ok || !body.data) throw new Error(`HTTP ${response.status} from ${api}/graphql`);
  return body.data;
}

let graphqlWsLoading;
/** Loads the graphql-ws browser build once; answers `window.graphqlWs`. */
function loadGraphqlWs() {
  if (window.graphqlWs) return Promise.resolve(window.graphqlWs);
  graphqlWsLoading ??= new Promise((resolve, reject) => {
    const script = h('script', { src: GRAPHQL_WS_SCRIPT.href });
    script.addEventListener('load', () =>
      window.graphqlWs
        ? resolve(window.graphqlWs)
        : reject(new Error(`${GRAPHQL_WS_SCRIPT.pathname} did not define graphqlWs`)),
    );
    script.addEventListener('error', () => {
      graphqlWsLoading = undefined;
      script.remove();
      reject(new Error(`could not load ${GRAPHQL_WS_SCRIPT.pathname}`));
    });
    document.head.append(script);
  });
  return graphqlWsLoading;
}

// ---------------------------------------------------------------------------------------
// Notifications on the page

/** Renders one notification into its list item (created on first use). */
function renderItem(notification) {
  let item = items.get(notification.id);
  if (!item) {
    item = { element: h('li', { 'data-testid': 'notification' }), titleId: `notification-title-${++idCounter}` };
    items.set(notification.id, item);
  }
  item.data = notification;
  const { element, titleId } = item;
  element.dataset.id = notification.id;
  element.dataset.kind = notification.kind;
  element.dataset.read = String(notification.read);

  const actions = h('div', { class: 'actions' });
  if (notification.kind === 'TELEMETRY_REPORT_READY' && notification.subject?.id) {
    const open = h('button', { type: 'button', class: 'open-report', 'aria-describedby': titleId }, 'Open report');
    open.addEventListener('click', () => openReport(notification.id, open));
    actions.append(open);
  } else if (!notification.read) {
    const mark = h('button', { type: 'button', class: 'secondary', 'aria-describedby': titleId }, 'Mark read');
    mark.addEventListener('click', async () => {
      mark.disabled = true;
      await markRead(notification.id);
    });
    actions.append(mark);
  }

  element.replaceChildren(
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    h(
      'span',
      { class: 'title', id: titleId, 'data-testid': 'notification-title' },
      notification.read ? null : h('span', { class: 'visually-hidden' }, 'Unread: '),
      notification.title,
    ),
    h(
      'span',
      { class: 'meta' },
      h('span', { class: 'kind' }, KIND_LABELS[notification.kind] ?? notification.kind.replaceAll('_', ' ')),
      ' · ',
      timeElement(notification.createdAt),
    ),
    actions,
  );
  return element;
}

/** Puts the list items in `order`, drops the others. */
function renderList() {
  order = order.slice(0, MAX_SHOWN);
  order.forEach((id, index) => {
    const element = items.get(id).element;
    if (ui.list.children[index] !== element) ui.list.insertBefore(element, ui.list.children[index] ?? null);
  });
  const kept = new Set(order);
  for (const [id, item] of items) {
    if (!kept.has(id)) {
      item.element.remove();
      items.delete(id);
    }
  }
  ui.empty.hidden = order.length > 0;
  ui.empty.textContent = session ? 'No notifications yet.' : 'Connect to see your notifications.';
  showUnreadCount();
}

/** A notification pushed by the subscription: on top, unless already shown. */
function addNotification(notification) {
  const known = items.get(notification.id);
  if (known) {
    renderItem(notification);
    return;
  }
  renderItem(notification);
  order = [notification.id, ...order];
  if (!notification.read && unread !== null) unread += 1;
  if (session) session.pushedSinceCatchUp.add(notification.id);
  renderList();
}

/** Replaces the list with the server's (unread first, then newest), keeping what was pushed meanwhile. */
async function catchUp(current) {
  current.pushedSinceCatchUp = new Set();
  const data = await graphqlRequest(current, 'WidgetNotifications', { first: PAGE_SIZE });
  if (session !== current) return;
  const fresh = data.notifications.edges.map((edge) => edge.node);
  const freshIds = new Set(fresh.map((n) => n.id));
  const pushed = [...current.pushedSinceCatchUp].filter((id) => !freshIds.has(id) && items.has(id));
  for (const notification of fresh) renderItem(notification);
  order = [...pushed, ...fresh.map((n) => n.id)];
  unread = data.unreadNotificationCount + pushed.filter((id) => !items.get(id).data.read).length;
  renderList();
}

async function markRead(id) {
  const current = session;
  if (!current) return;
  const item = items.get(id);
  if (!item || item.data.read) return;
  try {
    const data = await graphqlRequest(current, 'WidgetMarkNotificationsRead', { ids: [id] });
    const result = data.markNotificationsRead;
    if (result.__typename !== 'MarkNotificationsReadSuccess') throw new Error(result.message ?? result.__typename);
    if (session !== current) return;
    const latest = items.get(id);
    if (latest) renderItem({ ...latest.data, read: true });
    unread = result.result.unreadCount;
    showUnreadCount();
  } catch (error) {
    if (session === current) setStatus('error', `Error: could not mark the notification read: ${describeError(error)}`);
  }
}

// ---------------------------------------------------------------------------------------
// Telemetry reports

function closeReport() {
  for (const url of heatmapUrls) URL.revokeObjectURL(url);
  heatmapUrls = [];
  ui.report.hidden = true;
  ui.reportBody.replaceChildren();
}

async function openReport(notificationId, button) {
  const current = session;
  const notification = items.get(notificationId)?.data;
  if (!current || !notification?.subject) return;
  button.disabled = true;
  void markRead(notificationId);
  closeReport();
  ui.report.hidden = false;
  ui.reportHeading.textContent = 'Telemetry report';
  ui.reportPeriod.textContent = 'Loading…';
  try {
    const data = await graphqlRequest(current, 'WidgetTelemetryReport', {
      id: notification.subject.id,
      first: REPORT_ENTRIES,
    });
    if (session !== current) return;
    const report = data.node;
    if (!report || report.__typename !== 'TelemetryReport') throw new Error('the report is no longer available');
    renderReport(current, report);
  } catch (error) {
    if (session !== current) return;
    ui.reportPeriod.textContent = '';
    ui.reportBody.replaceChildren(
      h('p', { class: 'error-text' }, `Could not load the report: ${describeError(error)}`),
    );
  } finally {
    button.disabled = false;
  }
  ui.reportHeading.setAttribute('tabindex', '-1');
  ui.reportHeading.focus({ preventScroll: true });
  ui.report.scrollIntoView({ block: 'nearest' });
}

function renderReport(current, report) {
  ui.reportHeading.textContent = `Telemetry report: ${report.collection.name}`;
  ui.reportPeriod.replaceChildren(
    'Sightings from ',
    timeElement(report.periodStart, utcDate),
    ' to ',
    timeElement(report.periodEnd, utcDate),
    ' (UTC)',
    report.status === 'SUCCEEDED' ? '' : ` · status ${report.status}`,
  );
  const entries = report.entries.edges.map((edge) => edge.node);
  if (entries.length === 0) {
    ui.reportBody.replaceChildren(
      h('p', { class: 'empty' }, 'No indicator of this collection was seen in the period.'),
    );
    return;
  }
  const seen = report.indicatorsSeen ?? report.entries.totalCount;
  const checked = report.indicatorsChecked === undefined ? '' : ` of the ${report.indicatorsChecked} checked`;
  const shown =
    seen > entries.length
      ? `The ${entries.length} most seen of ${seen} indicators seen${checked}, most sightings first.`
      : `${seen} indicator${seen === 1 ? '' : 's'} seen${checked}, most sightings first.`;
  // One <tbody> per indicator: its figures, then its heatmap (a year wide) on a row of its own.
  const groups = entries.map((entry) => {
    const value = entry.indicator.value;
    const img = h('img', {
      class: 'heatmap',
      'data-heatmap': '',
      alt: `Daily sightings of ${value} from ${dateOnly(report.periodStart)} to ${dateOnly(report.periodEnd)}: ${entry.sightings} in all.`,
    });
    void loadHeatmap(current, img, entry.heatmapSvgUrl);
    return h(
      'tbody',
      { 'data-testid': 'report-entry', 'data-indicator': value },
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, h('code', { 'data-testid': 'indicator-value' }, value)),
        h('td', { class: 'num', 'data-testid': 'sightings' }, String(entry.sightings)),
        h('td', {}, timeElement(entry.firstSeen, utcTime, ' UTC')),
        h('td', {}, timeElement(entry.lastSeen, utcTime, ' UTC')),
      ),
      h('tr', { class: 'heatmap-row' }, h('td', { colspan: 4 }, img)),
    );
  });
  ui.reportBody.replaceChildren(
    h(
      'table',
      {},
      h('caption', {}, shown),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Indicator'),
          h('th', { scope: 'col', class: 'num' }, 'Sightings'),
          h('th', { scope: 'col' }, 'First seen'),
          h('th', { scope: 'col' }, 'Last seen'),
        ),
      ),
      ...groups,
    ),
  );
}

const dateOnly = (iso) => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : utcDate.format(date);
};

/** Fetches a heatmap with the key (an <img> cannot send it) and shows it from a Blob URL. */
async function loadHeatmap(current, img, path) {
  try {
    const url = new URL(/^https?:\/\//i.test(path) ? path : `${current.api}${path}`);
    // The key goes to the API only, whatever URL the data names.
    if (url.origin !== new URL(current.api).origin) throw new Error(`refused to send the key to ${url.origin}`);
    const response = await fetch(url, { headers: { authorization: `Bearer ${current.key}` } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const blob = await response.blob();
    if (!blob.type.startsWith('image/')) throw new Error(`not an image (${blob.type || 'no content type'})`);
    if (session !== current || !img.isConnected) return;
    const objectUrl = URL.createObjectURL(blob);
    heatmapUrls.push(objectUrl);
    img.src = objectUrl;
  } catch (error) {
    if (!img.isConnected) return;
    img.replaceWith(h('span', { class: 'error-text' }, `Heatmap unavailable: ${describeError(error)}`));
  }
}

// ---------------------------------------------------------------------------------------
// Connecting

function disconnect(state = 'idle', text = 'Disconnected') {
  const current = session;
  session = null;
  if (current) {
    current.unsubscribe?.();
    current.client?.dispose();
  }
  setStatus(state, text);
  ui.disconnect.disabled = true;
  renderList();
}

async function connect(apiText, key) {
  disconnect('connecting', 'Connecting…');
  closeReport();
  order = [];
  unread = null;
  renderList();

  let api;
  try {
    api = parseApiUrl(apiText);
    if (!key.trim()) throw new Error('enter an API key');
  } catch (error) {
    setStatus('error', `Error: ${describeError(error)}`);
    return;
  }
  try {
    localStorage.setItem(API_URL_STORAGE_KEY, api);
  } catch {
    // Storage may be unavailable (private mode, file://): remembering the URL is a nicety.
  }

  const current = { api, key: key.trim(), client: null, unsubscribe: null, pushedSinceCatchUp: new Set() };
  session = current;
  ui.disconnect.disabled = false;
  setStatus('connecting', 'Connecting…');
  try {
    // First over HTTP: a wrong URL or key is reported at once, and what was missed shows.
    const [graphqlWs, notificationAdded] = await Promise.all([
      loadGraphqlWs(),
      persistedOperation('WidgetNotificationAdded'),
      catchUp(current),
    ]);
    if (session !== current) return;
    subscribe(current, graphqlWs, notificationAdded);
  } catch (error) {
    if (session !== current) return;
    disconnect('error', `Error: ${describeError(error)}`);
  }
}

function subscribe(current, graphqlWs, notificationAdded) {
  // Any failure is retried (a browser reports a refused connection as an `error` event,
  // not a close event), except the close codes that say retrying cannot help.
  const willRetry = (failure) =>
    !(failure && typeof failure === 'object' && 'code' in failure && NO_RETRY_CODES.has(failure.code));
  let connectedOnce = false;
  const wsUrl = `${current.api.replace(/^http/, 'ws')}/graphql`;
  const client = graphqlWs.createClient({
    url: wsUrl,
    connectionParams: { authorization: `Bearer ${current.key}` },
    retryAttempts: Infinity,
    shouldRetry: willRetry,
    // 1 s, 2 s, 4 s … up to 30 s, with some jitter so that many clients do not come back at once.
    retryWait: (retries) =>
      new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1000 * 2 ** retries) + Math.random() * 500)),
    on: {
      connecting: (isRetry) => {
        if (session !== current) return;
        if (isRetry || connectedOnce) setStatus('reconnecting', 'Reconnecting…');
      },
      connected: async () => {
        if (session !== current) return;
        connectedOnce = true;
        try {
          // Whatever was created while the socket was down (on the first connection: since
          // the first query); the subscription only sends what comes from now on.
          await catchUp(current);
          if (session === current) setStatus('connected', 'Connected');
        } catch (error) {
          if (session === current) setStatus('error', `Error: ${describeError(error)}`);
        }
      },
      closed: (event) => {
        if (session !== current) return;
        if (willRetry(event)) setStatus('reconnecting', 'Reconnecting…');
      },
    },
  });
  current.client = client;
  current.unsubscribe = client.subscribe(
    // graphql-ws requires a `query` string: empty, the hash names the document.
    { query: '', ...notificationAdded },
    {
      next: (result) => {
        if (session !== current) return;
        if (result.errors?.length) setStatus('error', `Error: ${describeError(result.errors)}`);
        else if (result.data?.notificationAdded) addNotification(result.data.notificationAdded);
      },
      error: (error) => {
        if (session !== current) return;
        setStatus('error', `Error: ${describeError(error)}`);
      },
      complete: () => {
        if (session === current) setStatus('error', 'Error: the server ended the subscription');
      },
    },
  );
}

// ---------------------------------------------------------------------------------------
// Start

try {
  const saved = localStorage.getItem(API_URL_STORAGE_KEY);
  if (saved) ui.apiUrl.value = saved;
} catch {
  // No storage: the default URL stays.
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  void connect(ui.apiUrl.value, ui.apiKey.value);
});
ui.disconnect.addEventListener('click', () => disconnect());
ui.closeReport.addEventListener('click', closeReport);
window.addEventListener('pagehide', () => disconnect());
