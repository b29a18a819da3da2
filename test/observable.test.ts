import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  HASH_ALGORITHMS,
  MAX_OBSERVABLE_LENGTH,
  OBSERVABLE_REJECTION_CODES,
  fileHashList,
  isCommentOrBlank,
  parseObservable,
  refang,
  strongestHash,
  type Observable,
  type ObservableRejectionCode,
  type ParseResult,
} from '../src/modules/indicators/observable.ts';

// Hashes of the empty file: well-known, short enough to hard-code.
const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SHA512 =
  'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';

function observableOf(raw: string): Observable {
  const result = parseObservable(raw);
  if (!result.ok)
    throw new Error(`expected ${JSON.stringify(raw)} to parse, got ${result.error.code}: ${result.error.message}`);
  return result.observable;
}

/** The rejection of `raw`, code and message. */
function rejectionWithMessage(raw: string): { code: ObservableRejectionCode; message: string } {
  const result = parseObservable(raw);
  if (result.ok)
    throw new Error(`expected ${JSON.stringify(raw)} to be rejected, got ${JSON.stringify(result.observable)}`);
  return result.error;
}

function rejectionOf(raw: string): ObservableRejectionCode {
  const result = parseObservable(raw);
  if (result.ok)
    throw new Error(`expected ${JSON.stringify(raw)} to be rejected, got ${JSON.stringify(result.observable)}`);
  return result.error.code;
}

/** What parsing an observable's canonical form gives; for FILE, all its hashes on one line. */
function reparse(observable: Observable): ParseResult {
  const canonical =
    observable.type === 'FILE'
      ? fileHashList(observable.hashes)
          .map((hash) => hash.value)
          .join(',')
      : observable.value;
  return parseObservable(canonical);
}

function expectStable(result: ParseResult, raw: string) {
  if (!result.ok) return;
  expect(reparse(result.observable), `re-parsing the canonical form of ${JSON.stringify(raw)}`).toEqual(result);
}

/** Deterministic pseudo-random numbers, so that a failing fuzz case can be reproduced. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

describe('IPv4', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['010.001.002.003', '10.1.2.3'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['1.2.3.4:443', '1.2.3.4'],
    ['  "1.2.3.4",  ', '1.2.3.4'],
    ['\uFEFF1.2.3.4\u200B', '1.2.3.4'],
  ])('%j → %s', (raw, value) => {
    expect(observableOf(raw)).toEqual({ type: 'IPV4', value });
  });

  it('rejects CIDR ranges with a reason', () => {
    const result = parseObservable('10.0.0.0/8');
    expect(result).toMatchObject({ ok: false, error: { code: 'CIDR_NOT_SUPPORTED' } });
    expect(!result.ok && result.error.message).toMatch(/CIDR/);
  });

  it.each(['1.2.3.256', '256.1.1.1', '1.2.3.4:70000'])('rejects %j', (raw) => {
    expect(rejectionOf(raw)).toBe('INVALID_IP');
  });

  it('names the out-of-range octet', () => {
    expect(parseObservable('1.2.3.300')).toMatchObject({ error: { message: expect.stringContaining('300') } });
  });

  it.each(['1.2.3', '1.2.3.4.5', '1..2.3', '0001.2.3.4'])('rejects the non-four-part form %j', (raw) => {
    expect(rejectionOf(raw)).toBe('INVALID_IP');
  });

  it('accepts port 65535 and refuses 65536, naming the port', () => {
    expect(observableOf('1.2.3.4:65535')).toEqual({ type: 'IPV4', value: '1.2.3.4' });
    expect(rejectionWithMessage('1.2.3.4:65536')).toEqual({
      code: 'INVALID_IP',
      message: 'port 65536 is out of range (0-65535)',
    });
  });

  it.each([
    ['10.20.30.0/24', 'CIDR_NOT_SUPPORTED'],
    ['192.168.100.0/16', 'CIDR_NOT_SUPPORTED'],
    ['11111.2.3.4/24', 'INVALID_URL'],
  ] as const)('reads %j as a range only when it is one: %s', (raw, code) => {
    expect(rejectionOf(raw)).toBe(code);
  });

  it('reads an address followed by a path that starts with digits as a URL, not a range', () => {
    expect(observableOf('1.2.3.4/1.exe')).toEqual({ type: 'URL', value: 'http://1.2.3.4/1.exe' });
  });
});

describe('IPv6', () => {
  it.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8::ABCD', '2001:db8::abcd'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::1', '::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
  ])('%j → %s', (raw, value) => {
    expect(observableOf(raw)).toEqual({ type: 'IPV6', value });
  });

  it.each(['::ffff:1.2.3.4', '::FFFF:102:304', '[::ffff:1.2.3.4]:80'])('treats the IPv4-mapped %j as IPv4', (raw) => {
    expect(observableOf(raw)).toEqual({ type: 'IPV4', value: '1.2.3.4' });
  });

  it('reads an IPv4 tail of any valid octets', () => {
    expect(observableOf('::ffff:192.168.100.200')).toEqual({ type: 'IPV4', value: '192.168.100.200' });
  });

  it.each(['[::ffff:0x1.2.3.4]:80', '[::ffff:0100.2.3.4]:80'])('refuses the hex or octal IPv4 tail of %j', (raw) => {
    expect(rejectionOf(raw)).toBe('INVALID_IP');
  });

  it('rejects zone ids, saying so', () => {
    for (const raw of ['fe80::1%eth0', '[fe80::1%25eth0]', '[fe80::1%eth0]:80']) {
      expect(rejectionWithMessage(raw)).toEqual({
        code: 'INVALID_IP',
        message: 'IPv6 zone ids (like %eth0) are not supported',
      });
    }
  });

  it('accepts a bracketed address with port 65535 and refuses 65536', () => {
    expect(observableOf('[2001:db8::1]:65535')).toEqual({ type: 'IPV6', value: '2001:db8::1' });
    expect(rejectionWithMessage('[2001:db8::1]:65536')).toEqual({
      code: 'INVALID_IP',
      message: 'port 65536 is out of range (0-65535)',
    });
  });

  it.each(['12345::1', '2001:db8::1::2', 'x[2001:db8::1]'])('names %j as not a valid IPv6 address', (raw) => {
    expect(rejectionWithMessage(raw)).toEqual({
      code: 'INVALID_IP',
      message: `${JSON.stringify(raw)} is not a valid IPv6 address`,
    });
  });

  it('rejects CIDR ranges', () => {
    expect(rejectionOf('2001:db8::/32')).toBe('CIDR_NOT_SUPPORTED');
  });

  it.each(['2001:db8::1::2', '1:2:3:4:5:6:7:8:9', '12345::1', 'fffff::', '00:11:22:33:44:55', '::ffff:0x1.2.3.4'])(
    'rejects %j',
    (raw) => {
      expect(rejectionOf(raw)).toBe('INVALID_IP');
    },
  );
});

describe('domains', () => {
  it.each([
    ['evil.com', 'evil.com'],
    ['EVIL.COM', 'evil.com'],
    ['evil.com.', 'evil.com'],
    ['sub.evil.co.uk', 'sub.evil.co.uk'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['BÜCHER.example', 'xn--bcher-kva.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['_dmarc.evil.com', '_dmarc.evil.com'],
    ['13343225565.com', '13343225565.com'],
    ['evil.com:8080', 'evil.com'],
    ['(evil.com)', 'evil.com'],
    ['<evil.com>;', 'evil.com'],
    ['evil.com:65535', 'evil.com'],
    ['example.3com', 'example.3com'],
    ['example.com1', 'example.com1'],
  ])('%j → %s', (raw, value) => {
    expect(observableOf(raw)).toEqual({ type: 'DOMAIN', value });
  });

  const label63 = 'a'.repeat(63);
  const domain253 = `${label63}.${label63}.${label63}.${'b'.repeat(61)}`;

  it('accepts a 63-character label and a 253-character domain, with or without the root dot', () => {
    expect(domain253).toHaveLength(253);
    expect(observableOf(`${label63}.com`)).toEqual({ type: 'DOMAIN', value: `${label63}.com` });
    expect(observableOf(domain253)).toEqual({ type: 'DOMAIN', value: domain253 });
    expect(observableOf(`${domain253}.`)).toEqual({ type: 'DOMAIN', value: domain253 });
  });

  it('refuses a 254-character domain, giving its length', () => {
    expect(rejectionWithMessage(`${domain253}b`)).toEqual({
      code: 'INVALID_DOMAIN',
      message: 'the domain is 254 characters long; the maximum is 253',
    });
  });

  it('refuses a port above 65535, naming it', () => {
    expect(rejectionWithMessage('evil.com:65536')).toEqual({
      code: 'INVALID_DOMAIN',
      message: 'port 65536 is out of range (0-65535)',
    });
  });

  it.each(['evil.com:80x', 'evil.com:80:90/x', 'evil.com:8080x/path', 'evil/x.php', 'localhost/x'])(
    'does not take %j for a domain or a URL',
    (raw) => {
      expect(rejectionOf(raw)).toBe('UNRECOGNISED');
    },
  );

  it('quotes at most 40 characters of the value in a message', () => {
    const forty = `${'a'.repeat(36)}.123`;
    expect(rejectionWithMessage(forty).message).toBe(`"${forty}" has an all-numeric top-level domain`);
    expect(rejectionWithMessage(`a${forty}`).message).toBe(
      `"a${forty.slice(0, 39)}…" has an all-numeric top-level domain`,
    );
  });

  it.each([
    ['-evil.com', /must not start or end with "-"/],
    ['evil-.com', /must not start or end with "-"/],
    ['evil..com', /empty label/],
    ['.evil.com', /empty label/],
    ['evil.123', /all-numeric top-level domain/],
    ['*.evil.com', /wildcard/],
    [`${'a'.repeat(64)}.com`, /longer than 63/],
    [`${'a.'.repeat(127)}com`, /maximum is 253/],
    ['xn--a.com', /internationalised/],
  ])('rejects %j', (raw, message) => {
    const result = parseObservable(raw);
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'INVALID_DOMAIN', message: expect.stringMatching(message) },
    });
  });
});

describe('URLs', () => {
  it.each([
    ['http://evil.com/a', 'http://evil.com/a'],
    ['HTTP://EVIL.COM/Path/File.EXE?Q=A', 'http://evil.com/Path/File.EXE?Q=A'],
    ['http://evil.com:80/a', 'http://evil.com/a'],
    ['https://evil.com:443/a', 'https://evil.com/a'],
    ['https://evil.com:8443/a', 'https://evil.com:8443/a'],
    ['http://evil.com/a#fragment', 'http://evil.com/a'],
    ['http://evil.com', 'http://evil.com/'],
    ['http://evil.com./a', 'http://evil.com/a'],
    ['http://bücher.example/ä', 'http://xn--bcher-kva.example/%C3%A4'],
    ['http://[2001:DB8:0::1]:8080/x', 'http://[2001:db8::1]:8080/x'],
    ['http://[::ffff:1.2.3.4]/x', 'http://1.2.3.4/x'],
    ['smb://Files.EVIL.com/share', 'smb://files.evil.com/share'],
    ['tcp://1.2.3.4:4444', 'tcp://1.2.3.4:4444'],
    ['evil.com/payload.exe', 'http://evil.com/payload.exe'],
    ['evil.com/', 'http://evil.com/'],
    ['www.evil.com/index.php?id=1', 'http://www.evil.com/index.php?id=1'],
    ['1.2.3.4:8080/gate.php', 'http://1.2.3.4:8080/gate.php'],
    ['[2001:db8::1]/x', 'http://[2001:db8::1]/x'],
    ['evil.com/a:b:c', 'http://evil.com/a:b:c'],
    ['http://evil.com/a,#x', 'http://evil.com/a'],
    ['<http://evil.com/a>,', 'http://evil.com/a'],
  ])('%j → %s', (raw, value) => {
    expect(observableOf(raw)).toEqual({ type: 'URL', value });
  });

  it.each(['http', 'https', 'ftp', 'ftps', 'sftp', 'ws', 'wss', 'tcp', 'udp', 'smb'])(
    'accepts the %s scheme',
    (scheme) => {
      expect(observableOf(`${scheme.toUpperCase()}://Evil.com:1234/a`)).toEqual({
        type: 'URL',
        value: `${scheme}://evil.com:1234/a`,
      });
    },
  );

  it('rejects unsupported schemes, naming the scheme and the supported ones', () => {
    expect(rejectionWithMessage('javascript://evil.com')).toEqual({
      code: 'UNSUPPORTED_URL_SCHEME',
      message:
        'the URL scheme "javascript" is not supported (supported: http, https, ftp, ftps, sftp, ws, wss, tcp, udp, smb)',
    });
  });

  it.each(['http://', 'http://localhost/x', 'http://-evil.com/', 'http://evil.com:99999/'])('rejects %j', (raw) => {
    expect(rejectionOf(raw)).toBe('INVALID_URL');
  });

  it.each([
    ['http://', 'the URL has no host'],
    ['tcp:///x', 'the URL has no host'],
    ['http://[', '"http://[" is not a valid URL'],
    ['http://[::1', '"http://[::1" is not a valid URL'],
    ['tcp://evil%zz.com:4444', 'invalid URL host: "evil%zz.com" is not a valid host name'],
  ])('says why %j is not a URL', (raw, message) => {
    expect(rejectionWithMessage(raw)).toEqual({ code: 'INVALID_URL', message });
  });

  it('keeps an IPv6 host in brackets for schemes WHATWG does not know', () => {
    expect(observableOf('tcp://[2001:DB8::1]/x')).toEqual({ type: 'URL', value: 'tcp://[2001:db8::1]/x' });
    expect(observableOf('udp://[2001:db8::1]:53')).toEqual({ type: 'URL', value: 'udp://[2001:db8::1]:53' });
  });

  it('does not read a URL inside another word, nor a host with credentials and no scheme', () => {
    expect(rejectionOf('url:http://evil.com')).toBe('UNRECOGNISED');
    expect(rejectionOf('user@evil.com/x')).toBe('INVALID_EMAIL');
  });

  it('rejects a URL that becomes too long once percent-encoded, giving the length', () => {
    expect(rejectionWithMessage(`http://evil.com/${'ä'.repeat(500)}`)).toEqual({
      code: 'TOO_LONG',
      message: 'the URL is 3016 characters long once normalised; the maximum is 2048',
    });
  });

  it('accepts a URL of exactly the maximum length, and measures the value before normalising it', () => {
    const longest = `http://evil.com/${'a'.repeat(MAX_OBSERVABLE_LENGTH - 'http://evil.com/'.length)}`;
    expect(observableOf(longest)).toEqual({ type: 'URL', value: longest });
    // One character over as typed, though dropping the default port would make it fit.
    const withPort = `http://evil.com:80/${'a'.repeat(MAX_OBSERVABLE_LENGTH + 1 - 'http://evil.com:80/'.length)}`;
    expect(rejectionWithMessage(withPort)).toEqual({
      code: 'TOO_LONG',
      message: 'the value is 2049 characters long; the maximum is 2048',
    });
  });
});

describe('emails', () => {
  it.each([
    ['user@evil.com', 'user@evil.com'],
    ['Admin.Ops+tag@EVIL.com', 'admin.ops+tag@evil.com'],
    ['user@bücher.example', 'user@xn--bcher-kva.example'],
    ['mailto:User@evil.com', 'user@evil.com'],
    ['<user@evil.com>', 'user@evil.com'],
  ])('%j → %s', (raw, value) => {
    expect(observableOf(raw)).toEqual({ type: 'EMAIL', value });
  });

  it('explains what is wrong with the domain', () => {
    expect(parseObservable('user@ev!l.com')).toMatchObject({
      ok: false,
      error: { code: 'INVALID_EMAIL', message: expect.stringMatching(/"ev!l" may only contain/) },
    });
  });

  it.each(['@evil.com', 'user@', 'user@evil', 'us"er@evil.com', 'a..b@evil.com', `${'a'.repeat(65)}@evil.com`])(
    'rejects %j',
    (raw) => {
      expect(rejectionOf(raw)).toBe('INVALID_EMAIL');
    },
  );

  it('accepts a 64-character local part and refuses 65', () => {
    const local64 = 'a'.repeat(64);
    expect(observableOf(`${local64}@evil.com`)).toEqual({ type: 'EMAIL', value: `${local64}@evil.com` });
    expect(rejectionWithMessage(`a${local64}@evil.com`).message).toBe(
      'the part before the "@" is longer than 64 characters',
    );
  });

  it.each([
    ['mailto:evil.com', '"evil.com" is not an email address: it has no "@"'],
    ['mailto:@evil.com', 'the email address has nothing before the "@"'],
    ['@evil.com', 'the email address has nothing before the "@"'],
  ])('says why %j is not an email address', (raw, message) => {
    expect(rejectionWithMessage(raw)).toEqual({ code: 'INVALID_EMAIL', message });
  });
});

describe('file hashes', () => {
  it.each([
    [MD5, 'md5'],
    [SHA1, 'sha1'],
    [SHA256, 'sha256'],
    [SHA512, 'sha512'],
  ] as const)('detects a %s-character hash by its length', (hash, key) => {
    expect(observableOf(hash)).toEqual({ type: 'FILE', value: hash, hashes: { [key]: hash } });
    expect(observableOf(hash.toUpperCase())).toEqual({ type: 'FILE', value: hash, hashes: { [key]: hash } });
  });

  it.each([
    `${MD5},${SHA1},${SHA256}`,
    `${SHA256};${MD5};${SHA1}`,
    `${MD5} | ${SHA1} | ${SHA256}`,
    `${MD5}\t${SHA1}  ${SHA256}`,
    `${MD5.toUpperCase()}, ${SHA1}, ${SHA256},`,
  ])('reads several hashes of one file on one line: %s', (raw) => {
    expect(observableOf(raw)).toEqual({
      type: 'FILE',
      value: SHA256,
      hashes: { md5: MD5, sha1: SHA1, sha256: SHA256 },
    });
  });

  it('uses the strongest hash as the value', () => {
    expect(observableOf(`${SHA512},${MD5}`).value).toBe(SHA512);
    expect(observableOf(`${SHA1} ${MD5}`).value).toBe(SHA1);
  });

  it('accepts the same hash twice', () => {
    expect(observableOf(`${MD5},${MD5}`)).toEqual({ type: 'FILE', value: MD5, hashes: { md5: MD5 } });
  });

  it('rejects two different hashes of one algorithm', () => {
    const otherMd5 = '5d41402abc4b2a76b9719d911017c592';
    expect(rejectionWithMessage(`${MD5},${otherMd5}`)).toEqual({
      code: 'CONFLICTING_HASHES',
      message:
        'the line holds two different MD5 hashes; several hashes on one line must describe one file, ' +
        'with at most one hash per algorithm',
    });
  });

  it('does not read a labelled hash as a hash', () => {
    expect(rejectionOf(`md5:${MD5}`)).toBe('UNRECOGNISED');
  });

  it.each([31, 33, 48, 127])('rejects %i hex characters, naming the length', (length) => {
    expect(rejectionWithMessage('a'.repeat(length))).toEqual({
      code: 'INVALID_HASH',
      message:
        `a ${length}-character hex string is not a supported file hash ` +
        '(expected 32 characters for MD5, 40 for SHA-1, 64 for SHA-256 or 128 for SHA-512)',
    });
  });

  it('rejects a line where one of several hashes has a wrong length', () => {
    expect(rejectionOf(`${MD5},${SHA1.slice(1)}`)).toBe('INVALID_HASH');
  });

  it('lists hashes in the order MD5, SHA1, SHA256, SHA512', () => {
    expect(fileHashList({ sha512: SHA512, md5: MD5, sha256: SHA256 })).toEqual([
      { algorithm: 'MD5', value: MD5 },
      { algorithm: 'SHA256', value: SHA256 },
      { algorithm: 'SHA512', value: SHA512 },
    ]);
    expect(fileHashList({ md5: null, sha1: SHA1, sha256: null, sha512: null })).toEqual([
      { algorithm: 'SHA1', value: SHA1 },
    ]);
    expect(HASH_ALGORITHMS).toEqual(['md5', 'sha1', 'sha256', 'sha512']);
  });

  it('picks the strongest of stored hashes', () => {
    expect(strongestHash({ md5: MD5, sha1: SHA1, sha256: null })).toBe(SHA1);
    expect(() => strongestHash({ md5: null })).toThrow('strongestHash() needs at least one hash');
  });
});

describe('defanged input', () => {
  it.each([
    ['hxxp://evil[.]com/a', { type: 'URL', value: 'http://evil.com/a' }],
    ['hXXps://evil[.]com/a[.]php', { type: 'URL', value: 'https://evil.com/a.php' }],
    ['hxxp[s]://evil[.]com', { type: 'URL', value: 'https://evil.com/' }],
    ['http[:]//evil.com/a', { type: 'URL', value: 'http://evil.com/a' }],
    ['http[://]evil.com/a', { type: 'URL', value: 'http://evil.com/a' }],
    ['[http]://evil.com/a', { type: 'URL', value: 'http://evil.com/a' }],
    ['http:\\/\\/evil.com\\/a', { type: 'URL', value: 'http://evil.com/a' }],
    ['fxp://files[.]evil[.]com/x', { type: 'URL', value: 'ftp://files.evil.com/x' }],
    ['1.2.3[.]4', { type: 'IPV4', value: '1.2.3.4' }],
    ['1[.]2[.]3[.]4:80', { type: 'IPV4', value: '1.2.3.4' }],
    ['2001:db8[:]:1', { type: 'IPV6', value: '2001:db8::1' }],
    ['user[@]evil[.]com', { type: 'EMAIL', value: 'user@evil.com' }],
    ['user(at)evil(dot)com', { type: 'EMAIL', value: 'user@evil.com' }],
    ['user [at] evil [dot] com', { type: 'EMAIL', value: 'user@evil.com' }],
    ['evil(.)com', { type: 'DOMAIN', value: 'evil.com' }],
    ['evil{.}com', { type: 'DOMAIN', value: 'evil.com' }],
    ['evil[dot]com', { type: 'DOMAIN', value: 'evil.com' }],
    ['evil[DOT]com', { type: 'DOMAIN', value: 'evil.com' }],
    ['evil [.] com', { type: 'DOMAIN', value: 'evil.com' }],
    ['evil\\.com', { type: 'DOMAIN', value: 'evil.com' }],
  ])('%j', (raw, observable) => {
    expect(parseObservable(raw)).toEqual({ ok: true, observable });
  });

  it('refangs without touching words that merely contain "dot", "at" or "xp"', () => {
    expect(refang('w3dot.info')).toBe('w3dot.info');
    expect(refang('expedia.com')).toBe('expedia.com');
    expect(refang('evil dot com')).toBe('evil dot com');
    expect(refang('hxxp-mirror.com')).toBe('hxxp-mirror.com');
    expect(refang('hxxp://evil[.]com/a[.]php')).toBe('http://evil.com/a.php');
  });

  it('refangs nested markers to a fixed point', () => {
    expect(refang('evil[[.]]com')).toBe('evil.com');
    expect(refang(refang('evil[[.]]com'))).toBe('evil.com');
  });

  it('reads markers nested three deep and refuses four', () => {
    expect(observableOf('evil[[[.]]]com')).toEqual({ type: 'DOMAIN', value: 'evil.com' });
    expect(rejectionWithMessage('evil[[[[.]]]]com')).toEqual({
      code: 'UNRECOGNISED',
      message: 'defang markers are nested too deeply to read the value',
    });
  });

  it.each([
    ['http[ : ]//evil.com/a', { type: 'URL', value: 'http://evil.com/a' }],
    ['http( :// )evil.com/a', { type: 'URL', value: 'http://evil.com/a' }],
    ['user[ at ]evil.com', { type: 'EMAIL', value: 'user@evil.com' }],
    ['user ( @ ) evil.com', { type: 'EMAIL', value: 'user@evil.com' }],
  ])('allows blanks inside the brackets of %j', (raw, observable) => {
    expect(parseObservable(raw)).toEqual({ ok: true, observable });
  });

  const fixtures = new URL('../../shared/fixtures/real/text/', import.meta.url);
  const defangedFile = new URL('iocfanger_sample_text_defanged.txt', fixtures);
  const fangedFile = new URL('iocfanger_sample_text_fanged.expected.txt', fixtures);
  const hasFixtures = existsSync(fileURLToPath(defangedFile)) && existsSync(fileURLToPath(fangedFile));

  describe.skipIf(!hasFixtures)('ioc-fanger fixture pair', () => {
    const readLines = (file: URL) => readFileSync(file, 'utf8').split(/\r?\n/);

    it('parses every defanged line like its fanged counterpart, and every non-blank line parses', () => {
      const defanged = readLines(defangedFile);
      const fanged = readLines(fangedFile);
      expect(defanged.length).toBe(fanged.length);
      const problems: string[] = [];
      defanged.forEach((line, index) => {
        const fromDefanged = parseObservable(line);
        const fromFanged = parseObservable(fanged[index]);
        if (JSON.stringify(fromDefanged) !== JSON.stringify(fromFanged)) {
          problems.push(`line ${index + 1}: ${JSON.stringify(fromDefanged)} ≠ ${JSON.stringify(fromFanged)}`);
        } else if (fanged[index].trim() !== '' && !fromFanged.ok) {
          problems.push(`line ${index + 1}: rejected: ${fromFanged.error.code} ${fromFanged.error.message}`);
        }
      });
      expect(problems).toEqual([]);
    });

    it('gives canonical values that are stable', () => {
      for (const line of readLines(defangedFile)) expectStable(parseObservable(line), line);
    });
  });
});

describe('wrappers', () => {
  it.each(['"x"', "'x'", '`x`', '“x”', '‘x’', '«x»', '<x>', '(x)', '[x]', '{x}', '((x))', '"(x)",', '( x )', '"x" ,'])(
    'strips %s around a value',
    (wrapped) => {
      expect(observableOf(wrapped.replace('x', 'evil.com'))).toEqual({ type: 'DOMAIN', value: 'evil.com' });
    },
  );

  it('strips blanks left once invisible characters are gone', () => {
    expect(observableOf('\u200B 1.2.3.4')).toEqual({ type: 'IPV4', value: '1.2.3.4' });
  });

  it.each([
    ['an opening quote alone', '"evil.com', 'UNRECOGNISED'],
    ['a lone quote', '"', 'UNRECOGNISED'],
    ['brackets that close before the end', '(evil.com/a)(b)', 'INVALID_URL'],
    ['brackets that never close the first one', '(evil.com/(x)', 'INVALID_URL'],
  ])('keeps %s', (_name, raw, code) => {
    expect(rejectionOf(raw)).toBe(code);
  });
});

describe('rejected input', () => {
  it.each([
    ['empty', '', 'EMPTY'],
    ['only spaces', '   ', 'EMPTY'],
    ['only invisible characters', '\t\u200B\uFEFF', 'EMPTY'],
    ['empty quotes', '""', 'EMPTY'],
    ['words', 'hello world', 'UNRECOGNISED'],
    ['a sentence with a URL', 'see http://evil.com for details', 'UNRECOGNISED'],
    ['symbols', '***', 'UNRECOGNISED'],
    ['one word', 'hello', 'UNRECOGNISED'],
    ['__proto__', '__proto__', 'UNRECOGNISED'],
    ['two IPs on one line', '1.2.3.4,5.6.7.8', 'UNRECOGNISED'],
    ['a Windows path', 'C:\\Windows\\evil.exe', 'UNRECOGNISED'],
    ['a short dotted number', '1.2.3', 'INVALID_IP'],
    ['a scheme without host', 'http://', 'INVALID_URL'],
    ['a URL over the limit', `evil.com/${'a'.repeat(MAX_OBSERVABLE_LENGTH)}`, 'TOO_LONG'],
    ['a megabyte of text', 'a'.repeat(1_000_000), 'TOO_LONG'],
  ] as const)('%s → %3$s', (_name, raw, code) => {
    expect(rejectionOf(raw)).toBe(code);
  });

  it('says that one line holds one value', () => {
    expect(rejectionWithMessage('1.2.3.4,5.6.7.8')).toEqual({
      code: 'UNRECOGNISED',
      message:
        'contains several values separated by "," ";" or "|"; put one value per line ' +
        '(only hashes of one file may share a line)',
    });
  });

  it('gives a message that says what is expected', () => {
    expect(rejectionWithMessage('hello world').message).toBe(
      'contains spaces or control characters; expected an IP address, domain, URL, email address or file hash, ' +
        'one per line (only hashes of one file may share a line)',
    );
  });

  it.each([
    ['a space', 'evil .com'],
    ['a no-break space', 'evil.com\u00a0/x'],
    ['a tab', 'evil.com/\tx'],
    ['a NUL', 'evil.com/\u0000'],
    ['a unit separator', 'evil.com/a\u001fb'],
    ['a DEL', 'evil.com/\u007f'],
    ['a C1 control', 'user\u0085@evil.com'],
    ['the last C1 control', 'http://evil.com/\u009f'],
  ])('rejects a value with %s in it', (_name, raw) => {
    expect(rejectionWithMessage(raw).message).toMatch(/^contains spaces or control characters/);
  });

  it('does not throw for values that are not strings', () => {
    expect(rejectionOf(undefined as unknown as string)).toBe('UNRECOGNISED');
    expect(rejectionWithMessage(42 as unknown as string)).toEqual({
      code: 'UNRECOGNISED',
      message: 'expected text, got number',
    });
  });

  it('measures raw input after trimming, and allows up to twice the maximum for markers and wrappers', () => {
    expect(observableOf(`${' '.repeat(10_000)}1.2.3.4`)).toEqual({ type: 'IPV4', value: '1.2.3.4' });
    // 4096 characters as typed, 1376 once refanged.
    const defanged = `http://evil.com/${'x[dot]'.repeat(680)}`;
    expect(defanged).toHaveLength(2 * MAX_OBSERVABLE_LENGTH);
    expect(observableOf(defanged)).toEqual({ type: 'URL', value: `http://evil.com/${'x.'.repeat(680)}` });
    expect(rejectionWithMessage(`${defanged}x`)).toEqual({
      code: 'TOO_LONG',
      message: 'the value is 4097 characters long; the maximum is 2048',
    });
  });
});

describe('comment and blank lines', () => {
  it.each(['', '   ', '\t', '\uFEFF', '\u200B ', '# comment', '  #1.2.3.4', '// comment', ';comment'])(
    '%j is skipped',
    (line) => {
      expect(isCommentOrBlank(line)).toBe(true);
    },
  );

  it.each(['1.2.3.4', 'evil.com # note', 'hxxp://evil[.]com', '[.]'])('%j is not skipped', (line) => {
    expect(isCommentOrBlank(line)).toBe(false);
  });
});

describe('robustness', () => {
  const alphabet = [
    'a',
    'Z',
    '0',
    '9',
    'f',
    '.',
    ',',
    ';',
    '|',
    ':',
    '/',
    '\\',
    '@',
    '%',
    '#',
    '?',
    '&',
    '=',
    '-',
    '_',
    '*',
    '[',
    ']',
    '(',
    ')',
    '{',
    '}',
    '<',
    '>',
    '"',
    "'",
    '`',
    ' ',
    '\t',
    '\n',
    '\r',
    '\u0000',
    '\u0007',
    '\u007f',
    '\u0085',
    '\u00a0',
    '\u200b',
    '\ufeff',
    '\ud800',
    'ü',
    '。',
    '🦠',
    'dot',
    'at',
    'hxxp',
    'www.',
    '://',
    '[.]',
    '::',
    'ffff',
    'xn--',
    '.com',
    '__proto__',
    'constructor',
    'http://',
    'evil.com/',
    '1.2.3.4',
    MD5,
  ];
  const random = seededRandom(20240611);
  const randomInputs = Array.from({ length: 20_000 }, () => {
    let text = '';
    const parts = Math.floor(random() * 12);
    for (let i = 0; i < parts; i++) text += alphabet[Math.floor(random() * alphabet.length)];
    return text;
  });
  const hugeInputs = [
    'a'.repeat(5_000_000),
    ' '.repeat(100_000) + '1.2.3.4',
    '['.repeat(3000) + 'evil.com' + ']'.repeat(1000),
    '(.)'.repeat(1300),
    ':'.repeat(4000),
    'a.'.repeat(2000),
    `${'a'.repeat(20)},`.repeat(190),
  ];

  it('never throws, and every rejection has a known code and a message', () => {
    for (const raw of [...randomInputs, ...hugeInputs]) {
      let result: ParseResult | undefined;
      expect(() => (result = parseObservable(raw)), JSON.stringify(raw.slice(0, 80))).not.toThrow();
      if (result && !result.ok) {
        expect(OBSERVABLE_REJECTION_CODES).toContain(result.error.code);
        expect(result.error.message.length).toBeGreaterThan(0);
      }
    }
  });

  it('gives canonical values that parse to the same observable (idempotence)', () => {
    const known = [
      '010.001.002.003',
      '1.2.3.4:443',
      '::FFFF:1.2.3.4',
      '2001:0DB8::0001',
      '[2001:db8::1]:443',
      'BÜCHER.example.',
      'hxxp://evil[.]com/a',
      'HTTP://EVIL.COM:80/A?b=C#d',
      'evil.com/payload.exe',
      'smb://Bücher.example/x',
      'user[@]evil[.]com',
      'Foo+Bar@Evil.COM',
      `${MD5},${SHA1},${SHA256},${SHA512}`,
      SHA256.toUpperCase(),
      'http://evil.com/a,#x',
      'http://evil.com/[:\\\\]',
      'http://0x7f.1/',
      'tcp://[::ffff:1.2.3.4]:4444',
    ];
    let accepted = 0;
    for (const raw of [...known, ...randomInputs]) {
      const result = parseObservable(raw);
      if (result.ok) accepted++;
      expectStable(result, raw);
    }
    expect(accepted).toBeGreaterThan(known.length);
  });

  it('parses simple bulk lines fast (logs the rate, no timing assertion)', () => {
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      lines.push(`${i & 255}.${(i >> 8) & 255}.${(i >> 16) & 255}.${i % 7}`);
      lines.push(i.toString(16).padStart(8, '0').repeat(4));
    }
    const start = performance.now();
    let accepted = 0;
    for (const line of lines) if (parseObservable(line).ok) accepted++;
    const seconds = (performance.now() - start) / 1000;
    console.log(`parseObservable: ${Math.round(lines.length / seconds).toLocaleString('en')} lines/s on IPs and MD5s`);
    expect(accepted).toBe(lines.length);
  });
});
