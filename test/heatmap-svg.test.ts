import { describe, expect, it } from 'vitest';
import { renderHeatmapSvg, type HeatmapInput } from '../src/modules/telemetry/heatmap-svg.ts';

// A strict reader for the XML subset the renderer emits (elements, attributes, text,
// the predefined and numeric references): throws on anything not well-formed, so each
// test also checks well-formedness, and returns a tree to query instead of regexes.
interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: (XmlElement | string)[];
}

const REFERENCE = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function parseXml(source: string): XmlElement {
  let position = 0;
  const fail = (why: string): never => {
    throw new Error(`${why} at ${position}: ${JSON.stringify(source.slice(position, position + 40))}`);
  };
  const expectText = (literal: string) => {
    if (!source.startsWith(literal, position)) fail(`expected ${literal}`);
    position += literal.length;
  };
  const skipSpace = () => {
    while (/\s/.test(source[position] ?? '')) position++;
  };
  const readName = () => {
    const match = /[A-Za-z_][-\w.:]*/y;
    match.lastIndex = position;
    const found = match.exec(source) ?? fail('expected a name');
    position = match.lastIndex;
    return found[0];
  };
  const decode = (raw: string) => {
    const bare = raw.replace(REFERENCE, '');
    if (bare.includes('<') || bare.includes('&') || NOT_XML.test(raw)) fail(`unescaped ${JSON.stringify(raw)}`);
    return raw.replace(REFERENCE, (reference) => {
      const body = reference.slice(1, -1);
      if (!body.startsWith('#')) return PREDEFINED[body];
      return String.fromCodePoint(body[1] === 'x' ? parseInt(body.slice(2), 16) : Number(body.slice(1)));
    });
  };
  const readElement = (): XmlElement => {
    expectText('<');
    const node: XmlElement = { name: readName(), attributes: {}, children: [] };
    for (;;) {
      const before = position;
      skipSpace();
      if (source.startsWith('/>', position)) {
        position += 2;
        return node;
      }
      if (source[position] === '>') break;
      if (position === before) fail('expected a space before an attribute');
      const key = readName();
      if (key in node.attributes) fail(`duplicate attribute ${key}`);
      expectText('=');
      const quote = source[position];
      if (quote !== '"' && quote !== "'") fail('expected a quoted value');
      const end = source.indexOf(quote, position + 1);
      if (end < 0) fail('unterminated attribute');
      node.attributes[key] = decode(source.slice(position + 1, end));
      position = end + 1;
    }
    position++;
    for (;;) {
      if (source.startsWith('</', position)) {
        position += 2;
        if (readName() !== node.name) fail(`mismatched end tag for ${node.name}`);
        skipSpace();
        expectText('>');
        return node;
      }
      if (source[position] === '<') {
        node.children.push(readElement());
        continue;
      }
      const end = source.indexOf('<', position);
      if (end < 0) fail(`unclosed ${node.name}`);
      node.children.push(decode(source.slice(position, end)));
      position = end;
    }
  };
  const root = readElement();
  if (position !== source.length) fail('content after the root element');
  return root;
}

function descendants(node: XmlElement): XmlElement[] {
  return node.children.flatMap((child) => (typeof child === 'string' ? [] : [child, ...descendants(child)]));
}

function textOf(node: XmlElement): string {
  return node.children.map((child) => (typeof child === 'string' ? child : textOf(child))).join('');
}

function render(input: Partial<HeatmapInput> = {}) {
  const svg = renderHeatmapSvg({
    title: 'Sightings of 203.0.113.7',
    firstDay: '2025-11-29',
    lastDay: '2026-11-28',
    days: [],
    ...input,
  });
  const root = parseXml(svg);
  const all = descendants(root);
  const cells = all.filter((node) => node.name === 'rect' && 'data-date' in node.attributes);
  const cell = (date: string) => {
    const found = cells.find((node) => node.attributes['data-date'] === date);
    if (!found) throw new Error(`no cell for ${date}`);
    return found;
  };
  const texts = all.filter((node) => node.name === 'text').map(textOf);
  // Besides the day cells and the full-size background, the only rects are the legend's swatches.
  const legendColours = all
    .filter((node) => node.name === 'rect' && !('data-date' in node.attributes) && node.attributes.width !== '100%')
    .map((node) => node.attributes.fill);
  return { svg, root, all, cells, cell, texts, legendColours };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

describe('renderHeatmapSvg', () => {
  it('checks well-formedness with a reader that rejects malformed XML', () => {
    expect(parseXml('<a b="&amp;&#39;"><c/>x &lt; y</a>').children).toEqual([
      { name: 'c', attributes: {}, children: [] },
      'x < y',
    ]);
    for (const malformed of [
      '<a><b></a>',
      '<a>x & y</a>',
      '<a b="<">',
      '<a b="1"b="2"/>',
      '<a/><b/>',
      '<a>\u0001</a>',
    ]) {
      expect(() => parseXml(malformed), malformed).toThrow();
    }
  });

  it('escapes a hostile title and keeps the document well-formed', () => {
    const title = `Sightings of <script>alert("x")</script> & 'evil'\u0000\u001b`;
    const { svg, root, all } = render({ title });
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;evil&#39;');
    expect(svg).not.toContain('<script');
    expect(root.name).toBe('svg');
    const titleElement = all.find((node) => node.name === 'title' && node.attributes.id);
    expect(titleElement && textOf(titleElement)).toBe(`Sightings of <script>alert("x")</script> & 'evil'\ufffd\ufffd`);
  });

  it('labels the root through its title and description', () => {
    const { root, all } = render({
      firstDay: '2026-01-01',
      lastDay: '2026-12-31',
      days: [
        { date: '2026-03-04', count: 40 },
        { date: '2026-05-01', count: 2 },
        { date: '2026-08-09', count: 40 },
      ],
    });
    expect(root.attributes).toMatchObject({ xmlns: 'http://www.w3.org/2000/svg', role: 'img' });
    expect(root.attributes.viewBox).toBe(`0 0 ${root.attributes.width} ${root.attributes.height}`);
    const [titleId, descId] = root.attributes['aria-labelledby'].split(' ');
    const byId = (id: string) => all.find((node) => node.attributes.id === id)!;
    expect(byId(titleId).name).toBe('title');
    expect(byId(descId).name).toBe('desc');
    expect(textOf(byId(descId))).toBe('3 days with sightings, 82 sightings in total, most on 2026-03-04 (40)');
  });

  it('replaces lone surrogates in text and keeps pairs', () => {
    const { all } = render({ title: 'a\ud800x \udc00 🦠 \ud800' });
    const titleElement = all.find((node) => node.name === 'title' && node.attributes.id);
    expect(titleElement && textOf(titleElement)).toBe('a\ufffdx \ufffd 🦠 \ufffd');
  });

  it('names the busiest day wherever it is, and counts the first and last days', () => {
    const { all } = render({
      firstDay: '2026-03-01',
      lastDay: '2026-03-31',
      days: [
        { date: '2026-03-01', count: 2 },
        { date: '2026-03-15', count: 0 },
        { date: '2026-03-31', count: 40 },
      ],
    });
    expect(textOf(all.find((node) => node.name === 'desc')!)).toBe(
      '2 days with sightings, 42 sightings in total, most on 2026-03-31 (40)',
    );
  });

  it('describes a range without sightings', () => {
    const { all, cells, legendColours } = render();
    expect(textOf(all.find((node) => node.name === 'desc')!)).toBe('No sightings');
    expect(new Set(cells.map((node) => node.attributes.fill))).toEqual(new Set([legendColours[0]]));
  });

  it.each([
    ['a 365-day range', '2025-11-29', '2026-11-28', 365],
    ['a 366-day range', '2023-03-01', '2024-02-29', 366],
    ['a single day', '2026-03-04', '2026-03-04', 1],
    ['the largest range', '2025-01-01', '2026-02-04', 400],
  ])('draws one cell per day for %s', (_, firstDay, lastDay, days) => {
    const { cells } = render({ firstDay, lastDay });
    expect(cells).toHaveLength(days);
    expect(cells[0].attributes['data-date']).toBe(firstDay);
    expect(cells.at(-1)!.attributes['data-date']).toBe(lastDay);
    expect(new Set(cells.map((node) => `${node.attributes.x},${node.attributes.y}`)).size).toBe(days);
  });

  it('puts weeks in columns and Monday to Sunday in rows', () => {
    // 2025-11-30 is a Sunday: alone at the bottom of the first column.
    const fromSunday = render({ firstDay: '2025-11-30', lastDay: '2026-11-29' });
    const sunday = fromSunday.cell('2025-11-30').attributes;
    const monday = fromSunday.cell('2025-12-01').attributes;
    expect(Number(monday.x)).toBeGreaterThan(Number(sunday.x));
    expect(Number(sunday.y) - Number(monday.y)).toBe(6 * 13);
    expect(fromSunday.cell('2025-12-07').attributes).toMatchObject({ x: monday.x, y: sunday.y });
    const columns = new Set(fromSunday.cells.map((node) => node.attributes.x));
    expect(columns.size).toBe(53);

    const fromMonday = render({ firstDay: '2025-12-01', lastDay: '2026-11-30' });
    const first = fromMonday.cell('2025-12-01').attributes;
    expect(fromMonday.cells.every((node) => Number(node.attributes.x) >= Number(first.x))).toBe(true);
    expect(fromMonday.cells.every((node) => Number(node.attributes.y) >= Number(first.y))).toBe(true);
    expect(new Set(fromMonday.cells.map((node) => node.attributes.x)).size).toBe(53);
  });

  it("gives a day's cell its count and a title", () => {
    const { cell } = render({
      days: [
        { date: '2026-03-04', count: 40 },
        { date: '2026-03-05', count: 1 },
      ],
    });
    const titleOf = (date: string) => textOf(cell(date).children[0] as XmlElement);
    expect(cell('2026-03-04').attributes['data-count']).toBe('40');
    expect(titleOf('2026-03-04')).toBe('2026-03-04: 40 sightings');
    expect(titleOf('2026-03-05')).toBe('2026-03-05: 1 sighting');
    expect(cell('2026-03-06').attributes['data-count']).toBe('0');
    expect(titleOf('2026-03-06')).toBe('2026-03-06: no sightings');
  });

  it('colours counts on a log scale of the maximum, with the legend colours', () => {
    const { cell, legendColours } = render({
      days: [1, 10, 11, 100, 1000, 10_000].map((count, index) => ({ date: `2026-01-0${index + 1}`, count })),
    });
    expect(legendColours).toHaveLength(5);
    expect(new Set(legendColours).size).toBe(5);
    const colourOf = (date: string) => cell(date).attributes.fill;
    expect(colourOf('2025-12-31')).toBe(legendColours[0]);
    expect(colourOf('2026-01-01')).toBe(legendColours[1]);
    expect(colourOf('2026-01-02')).toBe(legendColours[1]);
    expect(colourOf('2026-01-03')).toBe(legendColours[2]);
    expect(colourOf('2026-01-04')).toBe(legendColours[2]);
    expect(colourOf('2026-01-05')).toBe(legendColours[3]);
    expect(colourOf('2026-01-06')).toBe(legendColours[4]);
  });

  it('gives the top colour to every sighting when the maximum is 1', () => {
    const { cell, legendColours } = render({ days: [{ date: '2026-06-01', count: 1 }] });
    expect(cell('2026-06-01').attributes.fill).toBe(legendColours[4]);
  });

  it('labels weekdays, the legend and each month where it starts, in order', () => {
    const calendarYear = render({ firstDay: '2026-01-01', lastDay: '2026-12-31' });
    expect(calendarYear.texts.filter((text) => MONTHS.includes(text))).toEqual(MONTHS);
    expect(calendarYear.texts).toEqual(expect.arrayContaining(['Mon', 'Wed', 'Fri', 'Less', 'More']));

    // November is cut to its last two days: no room for its label before December's.
    const rolling = render();
    expect(rolling.texts.filter((text) => MONTHS.includes(text))).toEqual([
      ...MONTHS.slice(11),
      ...MONTHS.slice(0, 11),
    ]);
    const december = rolling.all.find((node) => node.name === 'text' && textOf(node) === 'Dec')!;
    expect(december.attributes.x).toBe(rolling.cell('2025-12-01').attributes.x);

    const midMonth = render({ firstDay: '2026-01-15', lastDay: '2026-03-10' });
    expect(midMonth.texts.filter((text) => MONTHS.includes(text))).toEqual(['Jan', 'Feb', 'Mar']);
  });

  it('puts weekday labels beside their rows, month labels above the grid and the legend below it', () => {
    const { all, cells } = render();
    const number = (node: XmlElement, name: string) => Number(node.attributes[name]);
    const gridLeft = Math.min(...cells.map((cell) => number(cell, 'x')));
    const gridTop = Math.min(...cells.map((cell) => number(cell, 'y')));
    const gridBottom = Math.max(...cells.map((cell) => number(cell, 'y') + number(cell, 'height')));
    const gridRight = Math.max(...cells.map((cell) => number(cell, 'x') + number(cell, 'width')));
    const label = (name: string) => all.find((node) => node.name === 'text' && textOf(node) === name)!;
    for (const [name, row] of [
      ['Mon', 0],
      ['Wed', 2],
      ['Fri', 4],
    ] as const) {
      const rowCell = cells.find((cell) => number(cell, 'y') === gridTop + row * 13)!;
      expect(label(name).attributes['text-anchor']).toBe('end');
      expect(number(label(name), 'x')).toBeLessThan(gridLeft);
      expect(number(label(name), 'y')).toBeGreaterThan(number(rowCell, 'y'));
      expect(number(label(name), 'y')).toBeLessThanOrEqual(number(rowCell, 'y') + number(rowCell, 'height'));
    }
    expect(number(label('Jan'), 'y')).toBeLessThan(gridTop);
    const swatches = all.filter(
      (node) => node.name === 'rect' && !('data-date' in node.attributes) && node.attributes.width !== '100%',
    );
    const swatchLefts = swatches.map((swatch) => number(swatch, 'x'));
    expect(swatchLefts).toEqual(swatchLefts.map((_, index) => swatchLefts[0] + index * 13));
    for (const swatch of swatches) expect(number(swatch, 'y')).toBeGreaterThan(gridBottom);
    expect(label('Less').attributes['text-anchor']).toBe('end');
    expect(number(label('Less'), 'x')).toBeLessThan(swatchLefts[0]);
    expect(number(label('More'), 'x')).toBeGreaterThan(swatchLefts.at(-1)! + 10);
    expect(number(label('More'), 'x') + 26).toBe(gridRight);
    for (const text of [label('Less'), label('More')]) {
      expect(number(text, 'y')).toBeGreaterThan(number(swatches[0], 'y'));
      expect(number(text, 'y')).toBeLessThanOrEqual(number(swatches[0], 'y') + 10);
    }
  });

  it('renders a week as pinned (review the file when the design changes on purpose)', async () => {
    const { svg } = render({
      firstDay: '2026-02-26',
      lastDay: '2026-03-04',
      days: [
        { date: '2026-02-27', count: 1 },
        { date: '2026-03-01', count: 5 },
        { date: '2026-03-02', count: 40 },
      ],
    });
    await expect(svg).toMatchFileSnapshot('./__snapshots__/heatmap-week.svg');
  });

  it('keeps labels and the legend inside the view box', () => {
    for (const [firstDay, lastDay] of [
      ['2026-03-04', '2026-03-04'],
      ['2025-11-29', '2026-11-28'],
    ]) {
      const { root, all } = render({ firstDay, lastDay });
      const width = Number(root.attributes.width);
      const height = Number(root.attributes.height);
      // 26 pixels: generous for a 3- or 4-letter label at 10 pixels.
      for (const node of all.filter((candidate) => candidate.attributes.x !== undefined)) {
        const x = Number(node.attributes.x);
        const [left, right] = node.attributes['text-anchor'] === 'end' ? [x - 26, x] : [x, x + 26];
        expect(left).toBeGreaterThanOrEqual(0);
        expect(right).toBeLessThanOrEqual(width);
        expect(Number(node.attributes.y)).toBeLessThanOrEqual(height);
      }
    }
  });

  it('derives ids from the input: stable for the same input, distinct for another', () => {
    const input: HeatmapInput = {
      title: 'Sightings of 203.0.113.7',
      firstDay: '2025-11-29',
      lastDay: '2026-11-28',
      days: [
        { date: '2026-03-04', count: 40 },
        { date: '2026-03-05', count: 1 },
      ],
    };
    const ids = (svg: string) =>
      descendants(parseXml(svg))
        .map((node) => node.attributes.id)
        .filter(Boolean);
    const svg = renderHeatmapSvg(input);
    expect(renderHeatmapSvg({ ...input, days: [...input.days].reverse() })).toBe(svg);
    const other = renderHeatmapSvg({ ...input, title: 'Sightings of 198.51.100.1' });
    expect(ids(svg)).toHaveLength(2);
    expect(ids(other)).toHaveLength(2);
    expect(new Set([...ids(svg), ...ids(other)]).size).toBe(4);
    expect(ids(renderHeatmapSvg({ ...input, days: [{ date: '2026-03-04', count: 41 }] }))).not.toEqual(ids(svg));
  });

  it('ignores days outside the range and adds up repeated days', () => {
    const { cells, cell, all } = render({
      firstDay: '2026-03-01',
      lastDay: '2026-03-31',
      days: [
        { date: '2026-02-28', count: 500 },
        { date: '2026-03-10', count: 3 },
        { date: '2026-03-10', count: 4 },
        { date: '2026-04-01', count: 900 },
      ],
    });
    expect(cells).toHaveLength(31);
    expect(cell('2026-03-10').attributes['data-count']).toBe('7');
    expect(textOf(all.find((node) => node.name === 'desc')!)).toBe(
      '1 day with sightings, 7 sightings in total, most on 2026-03-10 (7)',
    );
  });

  it.each([
    [
      'a day that does not exist',
      { firstDay: '2026-02-30' },
      /firstDay must be a date as YYYY-MM-DD, got "2026-02-30"/,
    ],
    ['a date without padding', { lastDay: '2026-2-3' }, /lastDay must be a date/],
    ['a timestamp', { firstDay: '2026-01-01T00:00:00Z' }, /firstDay must be a date/],
    ['month 13', { days: [{ date: '2026-13-01', count: 1 }] }, /days\[0\]\.date must be a date/],
    ['a reversed range', { firstDay: '2026-03-02', lastDay: '2026-03-01' }, /firstDay 2026-03-02 is after lastDay/],
    ['401 days', { firstDay: '2025-01-01', lastDay: '2026-02-05' }, /401 days; at most 400/],
    [
      'a negative count',
      { days: [{ date: '2026-03-04', count: -1 }] },
      /days\[0\]\.count must be a non-negative integer/,
    ],
    ['a fractional count', { days: [{ date: '2026-03-04', count: 1.5 }] }, /non-negative integer, got 1.5/],
    ['a count that is not a number', { days: [{ date: '2026-03-04', count: NaN }] }, /non-negative integer/],
  ])('throws a RangeError for %s', (_, input, message) => {
    expect(() => render(input as Partial<HeatmapInput>)).toThrow(RangeError);
    expect(() => render(input as Partial<HeatmapInput>)).toThrow(message);
  });
});
