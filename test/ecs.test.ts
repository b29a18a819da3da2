import { describe, expect, it } from 'vitest';
import {
  ECS_OBSERVABLE_FIELDS,
  parseEventLine,
  type EventObservable,
  type EventParseOptions,
  type ParsedEvent,
} from '../src/modules/events/ecs.ts';

// Hashes of the empty file: well-known, short enough to hard-code.
const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SHA512 =
  'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';
const HASHES = { md5: MD5, sha1: SHA1, sha256: SHA256, sha512: SHA512 };

const NOW = new Date('2024-02-01T00:00:00Z');
const OPTIONS: EventParseOptions = { now: NOW, maxAgeDays: 30, maxFutureMs: 5 * 60_000 };
const TIMESTAMP = '2024-01-31T12:00:00Z';

/** An event line: `@timestamp` plus the given fields. */
function line(fields: Record<string, unknown>, timestamp: unknown = TIMESTAMP): string {
  return JSON.stringify({ '@timestamp': timestamp, ...fields });
}

function eventOf(text: string): ParsedEvent {
  const result = parseEventLine(text, OPTIONS);
  if (!result.ok) throw new Error(`expected ${text.slice(0, 200)} to parse, got: ${result.reason}`);
  return result.event;
}

function observablesOf(fields: Record<string, unknown>): EventObservable[] {
  return eventOf(line(fields)).observables;
}

function reasonOf(text: string): string {
  const result = parseEventLine(text, OPTIONS);
  if (result.ok) throw new Error(`expected ${text.slice(0, 200)} to be rejected`);
  return result.reason;
}

function timestampOf(timestamp: unknown): string {
  return eventOf(line({}, timestamp)).timestamp.toISOString();
}

describe('ECS_OBSERVABLE_FIELDS', () => {
  it('lists the SPEC fields per observable type', () => {
    const ipFields = ['source.ip', 'destination.ip', 'client.ip', 'server.ip', 'host.ip'];
    expect([...ECS_OBSERVABLE_FIELDS.IPV4].sort()).toEqual([...ipFields].sort());
    expect(ECS_OBSERVABLE_FIELDS.IPV6).toEqual(ECS_OBSERVABLE_FIELDS.IPV4);
    const domainFields = ['dns.question', 'url', 'destination', 'source', 'client', 'server'].flatMap((object) =>
      object === 'dns.question'
        ? [`${object}.name`, `${object}.registered_domain`]
        : [`${object}.domain`, `${object}.registered_domain`],
    );
    expect([...ECS_OBSERVABLE_FIELDS.DOMAIN].sort()).toEqual(domainFields.sort());
    expect([...ECS_OBSERVABLE_FIELDS.URL].sort()).toEqual(['url.full', 'url.original']);
    const emailFields = [
      'email.from.address',
      'email.sender.address',
      'email.to.address',
      'email.cc.address',
      'email.bcc.address',
      'user.email',
      'source.user.email',
      'destination.user.email',
    ];
    expect([...ECS_OBSERVABLE_FIELDS.EMAIL].sort()).toEqual(emailFields.sort());
    expect(ECS_OBSERVABLE_FIELDS.FILE).toHaveLength(16);
    for (const object of ['file', 'process', 'dll', 'email.attachments.file']) {
      for (const algorithm of Object.keys(HASHES)) {
        expect(ECS_OBSERVABLE_FIELDS.FILE).toContain(`${object}.hash.${algorithm}`);
      }
    }
  });
});

describe('document shapes', () => {
  it('reads nested fields', () => {
    expect(
      observablesOf({
        source: { ip: '10.0.0.1', user: { email: 'bob@corp.example' } },
        file: { hash: { md5: MD5 } },
      }),
    ).toEqual([
      { field: 'source.ip', type: 'IPV4', value: '10.0.0.1' },
      { field: 'source.user.email', type: 'EMAIL', value: 'bob@corp.example' },
      { field: 'file.hash.md5', type: 'FILE', value: MD5 },
    ]);
  });

  it('reads dotted fields', () => {
    expect(
      observablesOf({
        'source.ip': '10.0.0.1',
        'source.user.email': 'bob@corp.example',
        'file.hash.md5': MD5,
      }),
    ).toEqual([
      { field: 'source.ip', type: 'IPV4', value: '10.0.0.1' },
      { field: 'source.user.email', type: 'EMAIL', value: 'bob@corp.example' },
      { field: 'file.hash.md5', type: 'FILE', value: MD5 },
    ]);
  });

  it('reads any mix of nested and dotted path segments', () => {
    const observables = observablesOf({
      source: { 'user.email': 'bob@corp.example' },
      'source.user': { email: 'eve@corp.example' },
      dns: { 'question.name': 'evil.example' },
      'email.attachments': [{ 'file.hash': { sha1: SHA1 } }],
      email: { 'attachments.file': { hash: { md5: MD5 } } },
    });
    expect(observables).toHaveLength(5);
    expect(observables).toEqual(
      expect.arrayContaining([
        { field: 'source.user.email', type: 'EMAIL', value: 'bob@corp.example' },
        { field: 'source.user.email', type: 'EMAIL', value: 'eve@corp.example' },
        { field: 'dns.question.name', type: 'DOMAIN', value: 'evil.example' },
        { field: 'email.attachments.file.hash.sha1', type: 'FILE', value: SHA1 },
        { field: 'email.attachments.file.hash.md5', type: 'FILE', value: MD5 },
      ]),
    );
  });

  it('collects a field given both nested and dotted', () => {
    const values = observablesOf({ source: { ip: '10.0.0.1' }, 'source.ip': '10.0.0.2' }).map((o) => o.value);
    expect(values.sort()).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('reads every value of an array field (host.ip)', () => {
    expect(observablesOf({ host: { ip: ['10.0.0.1', 'FE80::1'] } })).toEqual([
      { field: 'host.ip', type: 'IPV4', value: '10.0.0.1' },
      { field: 'host.ip', type: 'IPV6', value: 'fe80::1' },
    ]);
  });

  it('reads every value of email.to.address', () => {
    const observables = observablesOf({ email: { to: { address: ['a@x.example', 'b@x.example'] } } });
    expect(observables).toEqual([
      { field: 'email.to.address', type: 'EMAIL', value: 'a@x.example' },
      { field: 'email.to.address', type: 'EMAIL', value: 'b@x.example' },
    ]);
  });

  it('reads every object of email.attachments', () => {
    const observables = observablesOf({
      'email.attachments': [
        { file: { name: 'a.doc', hash: { sha256: SHA256, md5: MD5 } } },
        { file: { name: 'b.exe', hash: { sha512: SHA512 } } },
      ],
    });
    expect(observables).toEqual(
      expect.arrayContaining([
        { field: 'email.attachments.file.hash.sha256', type: 'FILE', value: SHA256 },
        { field: 'email.attachments.file.hash.md5', type: 'FILE', value: MD5 },
        { field: 'email.attachments.file.hash.sha512', type: 'FILE', value: SHA512 },
      ]),
    );
    expect(observables).toHaveLength(3);
  });

  it('flattens arrays of arrays, however deep, as Elasticsearch does', () => {
    expect(observablesOf({ 'host.ip': [['10.0.0.1'], [['10.0.0.2']]] }).map((o) => o.value)).toEqual([
      '10.0.0.1',
      '10.0.0.2',
    ]);
    const depth = 100_000;
    const deep = `{"@timestamp":"${TIMESTAMP}","host.ip":${'['.repeat(depth)}"10.0.0.3"${']'.repeat(depth)}}`;
    expect(eventOf(deep).observables).toEqual([{ field: 'host.ip', type: 'IPV4', value: '10.0.0.3' }]);
  });

  it('treats null as no value', () => {
    expect(observablesOf({ 'source.ip': null, 'host.ip': [null, '10.0.0.1'], 'file.hash.md5': null })).toEqual([
      { field: 'host.ip', type: 'IPV4', value: '10.0.0.1' },
    ]);
  });

  it('keeps the document as JSON.parse returned it, and ignores other fields', () => {
    const text = line({
      message: 'hello',
      'source.port': 443,
      process: { parent: { hash: { md5: MD5 } } },
      related: { ip: ['10.0.0.9'] },
    });
    const event = eventOf(text);
    expect(event.document).toEqual(JSON.parse(text));
    expect(event.timestamp).toEqual(new Date(TIMESTAMP));
    expect(event.observables).toEqual([]);
  });
});

describe('normalisation', () => {
  it('types IP addresses by their version and gives canonical values', () => {
    expect(
      observablesOf({
        'source.ip': '2001:DB8:0:0:0:0:0:1',
        'destination.ip': '192[.]168[.]1[.]1',
        'client.ip': '::ffff:10.0.0.1',
        'server.ip': '010.000.000.001',
      }),
    ).toEqual([
      { field: 'source.ip', type: 'IPV6', value: '2001:db8::1' },
      { field: 'destination.ip', type: 'IPV4', value: '192.168.1.1' },
      { field: 'client.ip', type: 'IPV4', value: '10.0.0.1' },
      { field: 'server.ip', type: 'IPV4', value: '10.0.0.1' },
    ]);
  });

  it('reads every domain field, lower-cased, refanged and in punycode', () => {
    const fields = Object.fromEntries(
      ECS_OBSERVABLE_FIELDS.DOMAIN.map((field, i) => [field, i % 2 ? `Sub${i}.EVIL[.]Example` : `Sub${i}.Bücher.de`]),
    );
    const observables = observablesOf(fields);
    expect(observables).toHaveLength(ECS_OBSERVABLE_FIELDS.DOMAIN.length);
    for (const [i, field] of ECS_OBSERVABLE_FIELDS.DOMAIN.entries()) {
      const value = i % 2 ? `sub${i}.evil.example` : `sub${i}.xn--bcher-kva.de`;
      expect(observables).toContainEqual({ field, type: 'DOMAIN', value });
    }
  });

  it('reads both URL fields, refanged and canonical', () => {
    expect(
      observablesOf({ url: { full: 'hxxps://EVIL[.]example/Path?q=1#frag', original: 'http://Bücher.de:80/a/../b' } }),
    ).toEqual([
      { field: 'url.full', type: 'URL', value: 'https://evil.example/Path?q=1' },
      { field: 'url.original', type: 'URL', value: 'http://xn--bcher-kva.de/b' },
    ]);
  });

  it('reads every email field, lower-cased and refanged', () => {
    const fields = Object.fromEntries(
      ECS_OBSERVABLE_FIELDS.EMAIL.map((field, i) => [field, `User${i}[@]Corp[.]EXAMPLE`]),
    );
    const observables = observablesOf(fields);
    expect(observables).toHaveLength(ECS_OBSERVABLE_FIELDS.EMAIL.length);
    for (const [i, field] of ECS_OBSERVABLE_FIELDS.EMAIL.entries()) {
      expect(observables).toContainEqual({ field, type: 'EMAIL', value: `user${i}@corp.example` });
    }
  });

  it('reads every hash field, one lower-case FILE observable per hash', () => {
    const fields = Object.fromEntries(
      ECS_OBSERVABLE_FIELDS.FILE.map((field) => [field, HASHES[field.split('.').pop() as keyof typeof HASHES]]),
    );
    fields['file.hash.sha256'] = SHA256.toUpperCase();
    const observables = observablesOf(fields);
    expect(observables).toHaveLength(16);
    for (const field of ECS_OBSERVABLE_FIELDS.FILE) {
      const value = HASHES[field.split('.').pop() as keyof typeof HASHES];
      expect(observables).toContainEqual({ field, type: 'FILE', value });
    }
  });

  it('deduplicates by field and canonical value, not across fields', () => {
    const observables = observablesOf({
      source: { ip: '10.0.0.1', domain: 'EVIL.example' },
      'source.ip': ['10.0.0.1', '010.0.0.1'],
      'source.domain': 'evil[.]example',
      'destination.ip': '10.0.0.1',
    });
    expect(observables).toEqual([
      { field: 'source.ip', type: 'IPV4', value: '10.0.0.1' },
      { field: 'source.domain', type: 'DOMAIN', value: 'evil.example' },
      { field: 'destination.ip', type: 'IPV4', value: '10.0.0.1' },
    ]);
  });
});

describe('free-text fields', () => {
  it('ignores values that are not of the field’s type', () => {
    expect(
      observablesOf({
        'url.original': '/index.html',
        'url.full': 'evil.example',
        'url.domain': '10.0.0.1',
        'dns.question.name': 'WORKSTATION7',
        'destination.domain': ['localhost', 'not a domain'],
        'email.from.address': 'Bob <bob@corp.example>',
        'email.to.address': 'undisclosed-recipients',
        'user.email': 42,
        'source.domain': { name: 'evil.example' },
      }),
    ).toEqual([]);
  });

  it('ignores hash kinds that are not indicator hashes', () => {
    expect(observablesOf({ file: { hash: { sha384: 'zz', ssdeep: '3:a:b', tlsh: 'T1' }, name: 'x.exe' } })).toEqual([]);
  });
});

describe('rejections', () => {
  it('rejects a value of an IP field that is not an IP address', () => {
    expect(reasonOf(line({ 'source.ip': 'not-an-ip' }))).toBe('source.ip: "not-an-ip" is not an IP address');
    expect(reasonOf(line({ destination: { ip: '10.0.0.0/8' } }))).toBe(
      'destination.ip: "10.0.0.0/8" is not an IP address',
    );
    expect(reasonOf(line({ host: { ip: ['10.0.0.1', 'evil.example'] } }))).toBe(
      'host.ip: "evil.example" is not an IP address',
    );
    expect(reasonOf(line({ 'client.ip': '' }))).toBe('client.ip: "" is not an IP address');
  });

  it('rejects an IP field that does not hold a string', () => {
    expect(reasonOf(line({ 'source.ip': 167772161 }))).toBe(
      'source.ip: expected an IP address as a string, not a number',
    );
    expect(reasonOf(line({ source: { ip: { address: '10.0.0.1' } } }))).toBe(
      'source.ip: expected an IP address as a string, not an object',
    );
    expect(reasonOf(line({ 'server.ip': [true] }))).toBe(
      'server.ip: expected an IP address as a string, not a boolean',
    );
  });

  it('rejects a hash that is not hex of the length of its algorithm', () => {
    expect(reasonOf(line({ 'file.hash.sha256': MD5 }))).toBe(`file.hash.sha256: "${MD5}" is not a SHA-256 hash`);
    expect(reasonOf(line({ 'process.hash.md5': 'g'.repeat(32) }))).toBe(
      `process.hash.md5: "${'g'.repeat(32)}" is not an MD5 hash`,
    );
    expect(reasonOf(line({ 'email.attachments': [{ file: { hash: { sha1: ` ${SHA1}` } } }] }))).toBe(
      `email.attachments.file.hash.sha1: " ${SHA1}" is not a SHA-1 hash`,
    );
    for (const hash of [`${MD5.slice(0, 31)}g`, `g${MD5.slice(1)}`]) {
      expect(reasonOf(line({ 'file.hash.md5': hash }))).toBe(`file.hash.md5: "${hash}" is not an MD5 hash`);
    }
    expect(reasonOf(line({ 'dll.hash.sha512': 12 }))).toBe(
      'dll.hash.sha512: expected a SHA-512 hash as a string, not a number',
    );
  });

  it('quotes a bad value whole up to 80 characters, and its quoted form up to 100', () => {
    const reasonFor = (ip: string) => reasonOf(line({ 'source.ip': ip }));
    const eighty = 'x'.repeat(80);
    expect(reasonFor(eighty)).toBe(`source.ip: "${eighty}" is not an IP address`);
    expect(reasonFor(`${eighty}y`)).toBe(`source.ip: "${eighty}…" is not an IP address`);
    // 18 quotes escape to 36 characters: 100 quoted characters in all.
    const escaped = `${'"'.repeat(18)}${'x'.repeat(62)}`;
    expect(reasonFor(escaped)).toBe(`source.ip: ${JSON.stringify(escaped)} is not an IP address`);
    expect(reasonFor('\u0000'.repeat(100))).toBe(`source.ip: "${'\\u0000'.repeat(16)}\\u0…" is not an IP address`);
  });

  it('quotes at most a short excerpt of a bad value', () => {
    const reason = reasonOf(line({ 'source.ip': `${'x'.repeat(100_000)}SECRET` }));
    expect(reason.startsWith('source.ip: "xxx')).toBe(true);
    expect(reason).not.toContain('SECRET');
    expect(reason.length).toBeLessThan(200);
    expect(reasonOf(line({ 'source.ip': '\u0000'.repeat(100) })).length).toBeLessThan(200);
  });

  it('rejects JSON that is not an object', () => {
    for (const text of ['[]', '[{"@timestamp":"2024-01-31T12:00:00Z"}]', '"text"', '42', 'null', 'true']) {
      expect(reasonOf(text)).toBe('not a JSON object');
    }
  });

  it('rejects invalid JSON with a short parser message', () => {
    expect(reasonOf('{"@timestamp": ')).toMatch(/^invalid JSON: /);
    expect(reasonOf('')).toBe('invalid JSON: Unexpected end of JSON input');
    const reason = reasonOf(`{"message":"${'y'.repeat(1_000_000)}SECRET`);
    expect(reason).toMatch(/^invalid JSON: /);
    expect(reason).not.toContain('SECRET');
    expect(reason.length).toBeLessThan(200);
  });
});

describe('@timestamp', () => {
  it('accepts ISO-8601 with Z, with an offset or without a zone (UTC)', () => {
    expect(timestampOf('2024-01-31T12:00:00Z')).toBe('2024-01-31T12:00:00.000Z');
    expect(timestampOf('2024-01-31t12:00:00z')).toBe('2024-01-31T12:00:00.000Z');
    expect(timestampOf('2024-01-31T12:00:00+05:30')).toBe('2024-01-31T06:30:00.000Z');
    expect(timestampOf('2024-01-31T12:00:00-0800')).toBe('2024-01-31T20:00:00.000Z');
    expect(timestampOf('2024-01-31T12:00:00+01')).toBe('2024-01-31T11:00:00.000Z');
    expect(timestampOf('2024-01-31T12:00:00')).toBe('2024-01-31T12:00:00.000Z');
    expect(timestampOf('2024-01-31T12:00')).toBe('2024-01-31T12:00:00.000Z');
    expect(timestampOf('2024-01-31T12:00:00.123456789Z')).toBe('2024-01-31T12:00:00.123Z');
    expect(timestampOf('2024-01-31T12:00:00,5Z')).toBe('2024-01-31T12:00:00.500Z');
    expect(timestampOf('2024-01-31T12:34:56Z')).toBe('2024-01-31T12:34:56.000Z');
  });

  it('accepts offsets up to 18 hours, with minutes up to 59', () => {
    expect(timestampOf('2024-01-31T12:00:00+18:00')).toBe('2024-01-30T18:00:00.000Z');
    expect(timestampOf('2024-01-31T12:00:00+05:59')).toBe('2024-01-31T06:01:00.000Z');
  });

  it('accepts epoch milliseconds', () => {
    expect(timestampOf(Date.parse('2024-01-31T12:00:00.250Z'))).toBe('2024-01-31T12:00:00.250Z');
  });

  it('must be present at the top level', () => {
    expect(reasonOf(JSON.stringify({ source: { ip: '10.0.0.1' } }))).toBe('@timestamp is missing');
    expect(reasonOf(line({}, null))).toBe('@timestamp is missing');
    expect(reasonOf(JSON.stringify({ '@': { timestamp: TIMESTAMP } }))).toBe('@timestamp is missing');
  });

  it('rejects strings that are not ISO-8601 date-times', () => {
    for (const value of [
      'yesterday',
      '2024-01-31',
      '2024-02-30T12:00:00Z',
      '2023-02-29T12:00:00Z',
      '2024-01-31T24:00:00Z',
      '2024-01-31T12:60:00Z',
      '2024-01-31T12:00:00+99:00',
      '2024-01-31T12:00:00+19:00',
      '2024-01-31T12:00:00+05:60',
      '2024-01-31T12:00:60Z',
      '2024-13-01T12:00:00Z',
      ' 2024-01-31T12:00:00Z',
      '2024-01-31T12:00:00Zjunk',
      '31/01/2024 12:00',
      '1706702400000',
    ]) {
      expect(reasonOf(line({}, value))).toBe(`@timestamp: "${value}" is not an ISO-8601 date-time`);
    }
    const leapDay = parseEventLine(line({}, '2024-02-29T12:00:00Z'), { ...OPTIONS, now: new Date('2024-03-01') });
    expect(leapDay.ok && leapDay.event.timestamp.toISOString()).toBe('2024-02-29T12:00:00.000Z');
  });

  it('rejects other JSON types and numbers out of the range of dates', () => {
    expect(reasonOf(line({}, true))).toBe(
      '@timestamp must be an ISO-8601 date-time or epoch milliseconds, not a boolean',
    );
    expect(reasonOf(line({}, { date: TIMESTAMP }))).toBe(
      '@timestamp must be an ISO-8601 date-time or epoch milliseconds, not an object',
    );
    expect(reasonOf(`{"@timestamp":1e400}`)).toBe('@timestamp: Infinity is not a time in epoch milliseconds');
    expect(reasonOf(line({}, 9e15))).toBe('@timestamp: 9000000000000000 is not a time in epoch milliseconds');
  });

  it(`accepts times back to exactly maxAgeDays before now`, () => {
    expect(timestampOf('2024-01-02T00:00:00Z')).toBe('2024-01-02T00:00:00.000Z');
    expect(reasonOf(line({}, '2024-01-01T23:59:59.999Z'))).toBe('@timestamp is older than 30 days');
    expect(reasonOf(line({}, NOW.getTime() - 30 * 86_400_000 - 1))).toBe('@timestamp is older than 30 days');
  });

  it('accepts times up to maxFutureMs after now', () => {
    expect(timestampOf('2024-02-01T00:05:00Z')).toBe('2024-02-01T00:05:00.000Z');
    expect(reasonOf(line({}, '2024-02-01T00:05:00.001Z'))).toBe('@timestamp is in the future');
    expect(reasonOf(line({}, NOW.getTime() + 5 * 60_000 + 1))).toBe('@timestamp is in the future');
  });
});

describe('hostile input', () => {
  it('is not affected by __proto__ keys and does not pollute prototypes', () => {
    const text =
      `{"@timestamp":"${TIMESTAMP}","__proto__":{"polluted":true,"source":{"ip":"10.0.0.1"}},` +
      `"source":{"__proto__":{"ip":"10.0.0.2"}},"host":{"ip":"10.0.0.3","__proto__":{"ip":"x"}}}`;
    const event = eventOf(text);
    expect(event.observables).toEqual([{ field: 'host.ip', type: 'IPV4', value: '10.0.0.3' }]);
    expect(Object.hasOwn(event.document, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('handles a line of several megabytes in linear time', () => {
    const ips = Array.from({ length: 100_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const text = line({ 'host.ip': [...ips, ...ips], 'url.original': 'x'.repeat(1_000_000) });
    const started = performance.now();
    const event = eventOf(text);
    expect(event.observables).toHaveLength(100_000);
    // Generous: linear work takes well under a second here; quadratic would take minutes.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
