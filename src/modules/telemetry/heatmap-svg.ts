// Calendar heatmap of an indicator's daily sightings, as a standalone SVG string.
// Pure and deterministic (same input, same bytes) so the endpoint can cache it by ETag
// and tests can compare it; widgets inline it in their pages, so element ids carry a
// hash of the input and every piece of text, which includes user-controlled indicator
// values, goes through the escaping element builder below.
import { createHash } from 'node:crypto';

export interface HeatmapInput {
  /** Accessible title, e.g. `Sightings of 203.0.113.7, 2025-11-29 to 2026-11-28`. */
  title: string;
  /** First and last day shown, ISO dates `YYYY-MM-DD` (UTC days), inclusive; usually 365 days. */
  firstDay: string;
  lastDay: string;
  /** Days with sightings (any order, days outside the range ignored); missing days count 0. */
  days: ReadonlyArray<{ date: string; count: number }>;
}

/** Enough for a year plus slack (a leap year, a few days of margin), small enough to bound the output. */
const MAX_RANGE_DAYS = 400;

// Sequential light-to-dark scale: each step at least 1.4:1 in luminance from the previous
// one, so levels stay apart without relying on hue; text is 6.4:1 on the background.
const PALETTE = {
  background: '#ffffff',
  text: '#57606a',
  // Outlines keep empty cells visible on the white background.
  cellOutline: '#1f2328',
  levels: ['#ebedf0', '#fdbb84', '#ef6548', '#b30000', '#5c0000'],
} as const;

const CELL = 10;
const GAP = 3;
const PITCH = CELL + GAP;
const FONT_SIZE = 10;
/** Room for the weekday labels. */
const LEFT = 32;
/** Room for the month labels. */
const TOP = 20;
// Text width is unknown without a font; these overestimate 3 to 4 characters at FONT_SIZE.
const LABEL_WIDTH = 26;
/** A month label sticks out of its 10-pixel column by up to this much. */
const RIGHT = LABEL_WIDTH - CELL;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAY_LABELS = [
  { row: 0, label: 'Mon' },
  { row: 2, label: 'Wed' },
  { row: 4, label: 'Fri' },
];

const DAY_MS = 86_400_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function renderHeatmapSvg(input: HeatmapInput): string {
  const first = parseDay(input.firstDay, 'firstDay');
  const last = parseDay(input.lastDay, 'lastDay');
  if (first > last) throw new RangeError(`firstDay ${input.firstDay} is after lastDay ${input.lastDay}`);
  const dayCount = last - first + 1;
  if (dayCount > MAX_RANGE_DAYS) {
    throw new RangeError(`The range spans ${dayCount} days; at most ${MAX_RANGE_DAYS} can be shown`);
  }

  const counts = new Map<number, number>();
  input.days.forEach(({ date, count }, index) => {
    const day = parseDay(date, `days[${index}].date`);
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`days[${index}].count must be a non-negative integer, got ${count}`);
    }
    // A report may list a day more than once (one entry per source): sightings add up.
    if (day >= first && day <= last && count > 0) counts.set(day, (counts.get(day) ?? 0) + count);
  });
  const seen = [...counts].sort(([a], [b]) => a - b);
  const max = Math.max(0, ...counts.values());

  const id = `heatmap-${createHash('sha256')
    .update(JSON.stringify([input.title, first, last, seen]))
    .digest('hex')
    .slice(0, 12)}`;

  const leadingBlanks = weekdayOf(first);
  const columns = Math.floor((leadingBlanks + dayCount - 1) / 7) + 1;
  const gridRight = LEFT + columns * PITCH - GAP;
  const gridBottom = TOP + 7 * PITCH - GAP;

  const cells: Markup[] = [];
  const monthLabels: { column: number; month: number }[] = [];
  for (let day = first; day <= last; day++) {
    const position = leadingBlanks + day - first;
    const column = Math.floor(position / 7);
    const date = new Date(day * DAY_MS);
    if (date.getUTCDate() === 1) monthLabels.push({ column, month: date.getUTCMonth() });
    const count = counts.get(day) ?? 0;
    const isoDate = formatDay(day);
    cells.push(
      element(
        'rect',
        {
          x: LEFT + column * PITCH,
          y: TOP + (position % 7) * PITCH,
          width: CELL,
          height: CELL,
          rx: 2,
          fill: PALETTE.levels[level(count, max)],
          'data-date': isoDate,
          'data-count': count,
        },
        element('title', {}, text(`${isoDate}: ${sightings(count) || 'no sightings'}`)),
      ),
    );
  }
  // The month cut short at the start of the range gets a label too, unless it would run into the next one.
  const start = new Date(first * DAY_MS);
  const next = monthLabels[0];
  if (start.getUTCDate() !== 1 && (!next || next.column * PITCH >= LABEL_WIDTH)) {
    monthLabels.unshift({ column: 0, month: start.getUTCMonth() });
  }

  const legendWidth = LABEL_WIDTH + GAP + PALETTE.levels.length * PITCH + LABEL_WIDTH;
  const legendLeft = Math.max(LEFT, gridRight - legendWidth);
  const legendTop = gridBottom + 8;
  const swatchesLeft = legendLeft + LABEL_WIDTH + GAP;
  const width = Math.max(gridRight + RIGHT, legendLeft + legendWidth);
  const height = legendTop + CELL + 6;
  const baseline = (top: number) => top + CELL - 1;

  const labels = [
    ...monthLabels.map(({ column, month }) =>
      element('text', { x: LEFT + column * PITCH, y: TOP - 6 }, text(MONTHS[month])),
    ),
    ...WEEKDAY_LABELS.map(({ row, label }) =>
      element('text', { x: LEFT - 6, y: baseline(TOP + row * PITCH), 'text-anchor': 'end' }, text(label)),
    ),
    element('text', { x: swatchesLeft - GAP, y: baseline(legendTop), 'text-anchor': 'end' }, text('Less')),
    element('text', { x: swatchesLeft + PALETTE.levels.length * PITCH, y: baseline(legendTop) }, text('More')),
  ];
  const swatches = PALETTE.levels.map((fill, index) =>
    element('rect', { x: swatchesLeft + index * PITCH, y: legendTop, width: CELL, height: CELL, rx: 2, fill }),
  );

  return element(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      role: 'img',
      'aria-labelledby': `${id}-title ${id}-desc`,
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
    },
    element('title', { id: `${id}-title` }, text(input.title)),
    element('desc', { id: `${id}-desc` }, text(describe(seen, max))),
    // The background keeps the text contrast independent of the page the widget sits on.
    element('rect', { width: '100%', height: '100%', fill: PALETTE.background }),
    element('g', { 'font-family': 'sans-serif', 'font-size': FONT_SIZE, fill: PALETTE.text }, ...labels),
    element('g', { stroke: PALETTE.cellOutline, 'stroke-opacity': 0.1, 'stroke-width': 1 }, ...cells, ...swatches),
  );
}

/**
 * Sighting counts are heavy-tailed, so levels split the log of the maximum into quarters:
 * level k holds counts up to max^(k/4). Compared as count^4 <= max^k in exact integers.
 */
function level(count: number, max: number): number {
  if (count === 0) return 0;
  if (count >= max) return 4;
  const count4 = BigInt(count) ** 4n;
  for (let k = 1; k < 4; k++) if (count4 <= BigInt(max) ** BigInt(k)) return k;
  return 4;
}

function describe(seen: ReadonlyArray<readonly [number, number]>, max: number): string {
  if (seen.length === 0) return 'No sightings';
  const total = seen.reduce((sum, [, count]) => sum + count, 0);
  const [busiest] = seen.find(([, count]) => count === max)!;
  const days = `${seen.length} ${seen.length === 1 ? 'day' : 'days'} with sightings`;
  return `${days}, ${sightings(total)} in total, most on ${formatDay(busiest)} (${max})`;
}

function sightings(count: number): string {
  if (count === 0) return '';
  return `${count} ${count === 1 ? 'sighting' : 'sightings'}`;
}

/** Days since 1970-01-01 (UTC). */
function parseDay(value: string, what: string): number {
  // Date.parse rolls 02-30 over to March, hence the round trip.
  const day = ISO_DATE.test(value) ? Date.parse(`${value}T00:00:00Z`) / DAY_MS : NaN;
  if (!Number.isInteger(day) || formatDay(day) !== value) {
    throw new RangeError(`${what} must be a date as YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
  return day;
}

function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** 0 for Monday; 1970-01-01 was a Thursday. */
function weekdayOf(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

/** Serialized, escaped SVG: only element() and text() make one, so nothing reaches the output unescaped. */
type Markup = string & { readonly __brand: 'Markup' };

function element(name: string, attributes: Record<string, string | number>, ...children: Markup[]): Markup {
  const attributeText = Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${escape(String(value))}"`)
    .join('');
  const markup = children.length
    ? `<${name}${attributeText}>${children.join('')}</${name}>`
    : `<${name}${attributeText}/>`;
  return markup as Markup;
}

function text(value: string): Markup {
  return escape(value) as Markup;
}

// Characters XML 1.0 forbids even as references (controls, lone surrogates, U+FFFE/U+FFFF)
// would make the whole document unparseable, so they become U+FFFD.
const NOT_XML =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escape(value: string): string {
  return value.replace(NOT_XML, '\ufffd').replace(/[&<>"']/g, (character) => ENTITIES[character]);
}
