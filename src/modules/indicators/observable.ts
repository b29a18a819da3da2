/**
 * Observable normalisation: the single place where a raw value from any input route
 * (text import, file import, API, events) becomes a typed, canonical observable.
 *
 * "Parse, don't validate": callers get either an `Observable` whose `value` is canonical
 * (equal values mean equal indicators) or a rejection with a stable code and a message a
 * user can act on. `parseObservable` never throws, and its output is stable:
 * parsing an observable's canonical value again yields the same observable.
 *
 * It runs on every line of bulk imports (hundreds of thousands of lines), so all regexes
 * live at module scope, and every regex is written so that it runs in linear time.
 */
import ipaddr from 'ipaddr.js';
import { domainToASCII } from 'node:url';

export type ObservableType = 'IPV4' | 'IPV6' | 'DOMAIN' | 'URL' | 'EMAIL' | 'FILE';
export type HashAlgorithm = 'MD5' | 'SHA1' | 'SHA256' | 'SHA512';

export interface FileHashes {
  md5?: string;
  sha1?: string;
  sha256?: string;
  sha512?: string;
}

export type Observable =
  | { type: 'IPV4' | 'IPV6' | 'DOMAIN' | 'URL' | 'EMAIL'; value: string }
  /** `value` is the strongest hash present (SHA512 > SHA256 > SHA1 > MD5). */
  | { type: 'FILE'; value: string; hashes: FileHashes };

export const OBSERVABLE_REJECTION_CODES = [
  'EMPTY',
  'TOO_LONG',
  'UNRECOGNISED',
  'INVALID_IP',
  'CIDR_NOT_SUPPORTED',
  'INVALID_DOMAIN',
  'INVALID_URL',
  'UNSUPPORTED_URL_SCHEME',
  'INVALID_EMAIL',
  'INVALID_HASH',
  'CONFLICTING_HASHES',
] as const;

export type ObservableRejectionCode = (typeof OBSERVABLE_REJECTION_CODES)[number];
export type ObservableRejection = { code: ObservableRejectionCode; message: string };
export type ParseResult = { ok: true; observable: Observable } | { ok: false; error: ObservableRejection };

/** Longest canonical value we store. */
export const MAX_OBSERVABLE_LENGTH = 2048;
/** Raw input may carry padding, wrappers and defang markers; beyond this we do not even look. */
const MAX_RAW_LENGTH = 2 * MAX_OBSERVABLE_LENGTH;

export const SUPPORTED_URL_SCHEMES: ReadonlySet<string> = new Set([
  'http',
  'https',
  'ftp',
  'ftps',
  'sftp',
  'ws',
  'wss',
  'tcp',
  'udp',
  'smb',
]);

/** The hashes a FILE indicator may have, weakest first; `key` is also the ECS and column name. */
export const HASH_ALGORITHM_SPECS = [
  { algorithm: 'MD5', key: 'md5', hexLength: 32, label: 'MD5' },
  { algorithm: 'SHA1', key: 'sha1', hexLength: 40, label: 'SHA-1' },
  { algorithm: 'SHA256', key: 'sha256', hexLength: 64, label: 'SHA-256' },
  { algorithm: 'SHA512', key: 'sha512', hexLength: 128, label: 'SHA-512' },
] as const satisfies ReadonlyArray<{
  algorithm: HashAlgorithm;
  key: keyof FileHashes;
  hexLength: number;
  label: string;
}>;

type HashAlgorithmSpec = (typeof HASH_ALGORITHM_SPECS)[number];
const HASH_ALGORITHM_BY_LENGTH: ReadonlyMap<number, HashAlgorithmSpec> = new Map(
  HASH_ALGORITHM_SPECS.map((spec) => [spec.hexLength, spec]),
);
const STRONGEST_FIRST: readonly HashAlgorithmSpec[] = [...HASH_ALGORITHM_SPECS].reverse();

/** The `FileHashes` keys (which are also the storage columns), weakest first. */
export const HASH_ALGORITHMS: ReadonlyArray<keyof FileHashes> = HASH_ALGORITHM_SPECS.map((spec) => spec.key);

/** File hashes as stored, where a missing hash may be null. */
export type StoredFileHashes = { [K in keyof FileHashes]?: string | null };

// --- Input cleaning -------------------------------------------------------------------------

const INVISIBLE_CHARACTERS = /[\u200B-\u200D\u2060\uFEFF]/g;
const COMMENT_OR_BLANK = /^[\s\u200B-\u200D\u2060\uFEFF]*(?:$|#|\/\/|;)/;

/** Wrappers that copy-paste leaves around a value: quotes, brackets, angle brackets. */
const WRAPPER_CLOSERS: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ["'", "'"],
  ['`', '`'],
  ['“', '”'],
  ['‘', '’'],
  ['«', '»'],
  ['<', '>'],
  ['(', ')'],
  ['[', ']'],
  ['{', '}'],
]);

function isTrailingPunctuation(char: string): boolean {
  return char === ',' || char === ';';
}

/** True when `open` at index 0 is closed by the `close` at the very end, e.g. not `[a]b[c]`. */
function enclosesWhole(text: string, open: string, close: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === open && open !== close) depth++;
    else if (char === close) {
      depth--;
      if (depth === 0) return i === text.length - 1;
    }
  }
  return false;
}

/** Strips surrounding whitespace, wrapper pairs and trailing `,`/`;`, repeatedly (`"x",` → `x`). */
function unwrap(text: string): string {
  let value = text.trim();
  for (;;) {
    let end = value.length;
    while (end > 0 && isTrailingPunctuation(value[end - 1])) end--;
    if (end < value.length) {
      value = value.slice(0, end).trimEnd();
      continue;
    }
    const closer = WRAPPER_CLOSERS.get(value[0]);
    const isWrapped =
      closer !== undefined &&
      value.length >= 2 &&
      value.endsWith(closer) &&
      (value[0] === closer || enclosesWhole(value, value[0], closer));
    if (!isWrapped) return value;
    value = value.slice(1, -1).trim();
  }
}

// --- Refanging ------------------------------------------------------------------------------

/** Cheap pre-check: every defang form below contains one of these. */
const MAY_BE_DEFANGED = /[[({\\]|xp/i;

/**
 * Applied in order, so that scheme forms are complete before they are renamed:
 * `hxxp[:]//` → `hxxp://` → `http://`. Whitespace around `.`/`@` markers is bounded to keep
 * the regexes linear. A bare word `dot`/`at` is never touched (think `w3dot.info`).
 */
const REFANG_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\\([./])/g, '$1'], // evil\.com (regex escaping), http:\/\/ (JSON escaping)
  [/[[({]\s{0,3}(:\/\/|:)\s{0,3}[\])}]/g, '$1'], // http[:]//, http[://]evil.com
  [/[[({]([a-z][a-z0-9+.-]*)[\])}](?=:\/\/)/gi, '$1'], // [http]://, (hxxp)://
  [/[[({]s[\])}](?=:\/\/)/gi, 's'], // hxxp[s]://
  [/\bhxxp(?=s?:\/\/)/gi, 'http'], // hxxp://, hXXp://, hxxps://
  [/\bfxp(?=s?:\/\/)/gi, 'ftp'], // fxp://
  [/\s{0,3}[[({]\s{0,3}(?:\.|dot)\s{0,3}[\])}]\s{0,3}/gi, '.'], // [.] (.) {.} [dot] (dot) "evil [.] com"
  [/\s{0,3}[[({]\s{0,3}(?:@|at)\s{0,3}[\])}]\s{0,3}/gi, '@'], // [@] (@) [at] (at)
];

/** Nested markers (`[[.]]`) need more than one pass; real defangs settle after one or two. */
const MAX_REFANG_PASSES = 4;

function refangPass(text: string): string {
  let result = text;
  for (const [pattern, replacement] of REFANG_RULES) result = result.replace(pattern, replacement);
  return result;
}

/** Refangs until nothing changes; `settled` is false when markers are nested absurdly deep. */
function refangUntilSettled(text: string): { text: string; settled: boolean } {
  let current = text;
  for (let pass = 0; pass < MAX_REFANG_PASSES; pass++) {
    if (!MAY_BE_DEFANGED.test(current)) return { text: current, settled: true };
    const next = refangPass(current);
    if (next === current) return { text: current, settled: true };
    current = next;
  }
  return { text: current, settled: false };
}

/**
 * Turns defanged notation back into the real value: `hxxp[:]//evil[.]com` → `http://evil.com`,
 * `user[@]evil(dot)com` → `user@evil.com`. Leaves anything else unchanged, so it is also
 * safe for normalising search terms.
 */
export function refang(raw: string): string {
  return refangUntilSettled(raw).text;
}

/** True for blank lines and `#`, `//` or `;` comment lines, which text import skips. */
export function isCommentOrBlank(line: string): boolean {
  return COMMENT_OR_BLANK.test(line);
}

// --- Parsing --------------------------------------------------------------------------------

const IPV4_WITH_OPTIONAL_PORT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?::(\d{1,5}))?$/;
const IPV4_CIDR = /^\d{1,3}(?:\.\d{1,3}){3}\/\d+$/;
const DIGITS_AND_DOTS = /^[\d.]+$/;
const IPV6_CANDIDATE = /^([0-9a-f:.]+)(%[^/]*)?(\/\d*)?$/i;
/** Shape check before ipaddr.js, which also accepts 5+ digit groups and hex/octal IPv4 tails. */
const IPV6_SHAPE = /^(?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{0,4}|\d{1,3}(?:\.\d{1,3}){3})$/i;
const BRACKETED_HOST_WITH_OPTIONAL_PORT = /^\[([^\]]*)\](?::(\d{1,5}))?$/;
const HOST_WITH_PORT = /^([^:]+):(\d{1,5})$/;
const NOT_JUST_A_HOST = /[/?@]/;

const HASH_LIST = /^[0-9a-f]{16,}(?:[\s,;|]+[0-9a-f]{16,})*$/i;
const HASH_SEPARATORS = /[\s,;|]+/;

const WHITESPACE_OR_CONTROL = /[\s\x00-\x1f\x7f-\x9f]/;
const LIST_SEPARATOR = /[,;|]/;
const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const MAILTO = /^mailto:/i;
const PATH_OR_QUERY_START = /[/?]/;
const SCHEMELESS_URL_AUTHORITY = /^(?:\[[0-9a-f:.]+\]|[^\s@\\[\]:]+)(?::\d{1,5})?$/i;

const DOMAIN_DOT = /[.\u3002\uFF0E\uFF61]/;
const DOMAIN_CHARACTERS = /^[a-z0-9._\-\u0080-\uffff]+$/i;
const NEEDS_IDNA = /[^\x00-\x7f]|xn--/i;
const DOMAIN_LABEL = /^[a-z0-9_-]+$/;
const ALL_DIGITS = /^\d+$/;
const EMAIL_LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/i;

const MAX_DOMAIN_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const MAX_EMAIL_LOCAL_LENGTH = 64;
const MAX_PORT = 65535;
/** A URL whose canonical form is not a fixed point after this many rounds is rejected. */
const MAX_URL_ROUNDS = 3;

const EXPECTED_KINDS = 'an IP address, domain, URL, email address or file hash';

type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

function accept(observable: Observable): ParseResult {
  return { ok: true, observable };
}

function reject(code: ObservableRejectionCode, message: string): ParseResult {
  return { ok: false, error: { code, message } };
}

/** Short, printable excerpt of user input for messages. */
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/**
 * Detects the type of `raw` and returns its canonical form, or a rejection. Never throws.
 * See the module comment and the per-type functions for the rules.
 */
export function parseObservable(raw: string): ParseResult {
  if (typeof raw !== 'string') return reject('UNRECOGNISED', `expected text, got ${typeof raw}`);
  const trimmed = raw.trim();
  if (trimmed.length > MAX_RAW_LENGTH) return tooLong(trimmed.length);
  const { text: value, settled } = refangUntilSettled(unwrap(trimmed.replace(INVISIBLE_CHARACTERS, '')));
  if (!settled) return reject('UNRECOGNISED', 'defang markers are nested too deeply to read the value');
  if (value === '') return reject('EMPTY', 'the value is empty');
  if (value.length > MAX_OBSERVABLE_LENGTH) return tooLong(value.length);
  return classify(value);
}

function tooLong(length: number): ParseResult {
  return reject('TOO_LONG', `the value is ${length} characters long; the maximum is ${MAX_OBSERVABLE_LENGTH}`);
}

/** Order matters: cheap and common forms first, then forms that contain the others' characters. */
function classify(value: string): ParseResult {
  const ipv4 = IPV4_WITH_OPTIONAL_PORT.exec(value);
  if (ipv4) return parseIpv4Match(ipv4);

  if (HASH_LIST.test(value)) return parseFileHashes(value.split(HASH_SEPARATORS));

  if (WHITESPACE_OR_CONTROL.test(value)) {
    return reject(
      'UNRECOGNISED',
      `contains spaces or control characters; expected ${EXPECTED_KINDS}, one per line ` +
        '(only hashes of one file may share a line)',
    );
  }

  const scheme = URL_SCHEME.exec(value);
  if (scheme) return parseUrl(value, scheme[1].toLowerCase());
  if (MAILTO.test(value)) return parseEmail(value.slice('mailto:'.length));

  const bracketed = BRACKETED_HOST_WITH_OPTIONAL_PORT.exec(value);
  if (bracketed) return parseIpv6Literal(bracketed[1], bracketed[2]);

  const hasTwoColons = value.indexOf(':') !== value.lastIndexOf(':');
  const ipv6 = IPV6_CANDIDATE.exec(value);
  if (ipv6 && hasTwoColons) {
    if (ipv6[2] !== undefined) return reject('INVALID_IP', 'IPv6 zone ids (like %eth0) are not supported');
    if (ipv6[3] !== undefined) return cidrNotSupported();
    return parseIpv6Literal(ipv6[1], undefined);
  }
  // Without a path, query or "@", two colons fit no type but a (mistyped) IPv6 address.
  if (hasTwoColons && !NOT_JUST_A_HOST.test(value)) {
    return reject('INVALID_IP', `${quote(value)} is not a valid IPv6 address`);
  }
  if (IPV4_CIDR.test(value)) return cidrNotSupported();

  if (isSchemelessUrl(value)) return parseUrl(`http://${value}`, 'http');
  if (value.includes('@')) return parseEmail(value);

  if (LIST_SEPARATOR.test(value)) {
    return reject(
      'UNRECOGNISED',
      'contains several values separated by "," ";" or "|"; put one value per line ' +
        '(only hashes of one file may share a line)',
    );
  }
  if (DIGITS_AND_DOTS.test(value)) {
    return reject(
      'INVALID_IP',
      `${quote(value)} is not an IPv4 address: expected four numbers 0-255 separated by dots`,
    );
  }
  if (value.startsWith('*.')) {
    return reject('INVALID_DOMAIN', 'wildcard domains are not supported; list the domain itself, like example.com');
  }
  if (DOMAIN_DOT.test(value)) return parseDomainWithOptionalPort(value);
  return unrecognised();
}

function unrecognised(): ParseResult {
  return reject('UNRECOGNISED', `not ${EXPECTED_KINDS}`);
}

function cidrNotSupported(): ParseResult {
  return reject('CIDR_NOT_SUPPORTED', 'CIDR ranges are not supported; list the individual IP addresses');
}

function checkPort(port: string | undefined): Checked<void> {
  if (port === undefined || Number(port) <= MAX_PORT) return { ok: true, value: undefined };
  return { ok: false, reason: `port ${port} is out of range (0-${MAX_PORT})` };
}

// --- IP addresses ---------------------------------------------------------------------------

/**
 * Only four decimal parts are accepted, and leading zeros are padding, not octal:
 * `010.001.002.003` → `10.1.2.3`. (ipaddr.js would read `010` as octal, so the octets are
 * parsed here.) A port (`1.2.3.4:443`) is dropped: the indicator is the address.
 */
function parseIpv4Match(match: RegExpExecArray): ParseResult {
  const octets = [Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4])];
  const outOfRange = octets.find((octet) => octet > 255);
  if (outOfRange !== undefined) {
    return reject('INVALID_IP', `not an IPv4 address: ${outOfRange} is not between 0 and 255`);
  }
  const port = checkPort(match[5]);
  if (!port.ok) return reject('INVALID_IP', port.reason);
  return accept({ type: 'IPV4', value: octets.join('.') });
}

/** IPv4 in strict dotted decimal, canonical; undefined when `text` is not one. */
function canonicalIpv4(text: string): string | undefined {
  const match = IPV4_WITH_OPTIONAL_PORT.exec(text);
  if (!match || match[5] !== undefined) return undefined;
  const result = parseIpv4Match(match);
  return result.ok ? result.observable.value : undefined;
}

/**
 * RFC 5952 text (lower case, longest zero run compressed). An IPv4-mapped address
 * (`::ffff:1.2.3.4`) is the IPv4 address, so it becomes an IPV4 observable.
 */
function canonicalIpv6(text: string): Checked<Observable> {
  if (!IPV6_SHAPE.test(text)) return { ok: false, reason: `${quote(text)} is not a valid IPv6 address` };
  let address: ipaddr.IPv6;
  try {
    address = ipaddr.IPv6.parse(text);
  } catch {
    return { ok: false, reason: `${quote(text)} is not a valid IPv6 address` };
  }
  if (address.isIPv4MappedAddress()) {
    return { ok: true, value: { type: 'IPV4', value: address.toIPv4Address().toString() } };
  }
  return { ok: true, value: { type: 'IPV6', value: address.toRFC5952String() } };
}

function parseIpv6Literal(address: string, port: string | undefined): ParseResult {
  if (address.includes('%')) return reject('INVALID_IP', 'IPv6 zone ids (like %eth0) are not supported');
  const checkedPort = checkPort(port);
  if (!checkedPort.ok) return reject('INVALID_IP', checkedPort.reason);
  const ip = canonicalIpv6(address);
  return ip.ok ? accept(ip.value) : reject('INVALID_IP', ip.reason);
}

// --- File hashes ----------------------------------------------------------------------------

/**
 * Several hex hashes on one line are hashes of one file (`md5,sha1,sha256`), at most one
 * per algorithm. Repeating the identical hash is harmless copy-paste, not a conflict.
 */
function parseFileHashes(tokens: readonly string[]): ParseResult {
  const hashes: FileHashes = {};
  for (const token of tokens) {
    const spec = HASH_ALGORITHM_BY_LENGTH.get(token.length);
    if (spec === undefined) {
      return reject(
        'INVALID_HASH',
        `a ${token.length}-character hex string is not a supported file hash ` +
          '(expected 32 characters for MD5, 40 for SHA-1, 64 for SHA-256 or 128 for SHA-512)',
      );
    }
    const hash = token.toLowerCase();
    const existing = hashes[spec.key];
    if (existing !== undefined && existing !== hash) {
      return reject(
        'CONFLICTING_HASHES',
        `the line holds two different ${spec.algorithm} hashes; several hashes on one line must ` +
          'describe one file, with at most one hash per algorithm',
      );
    }
    hashes[spec.key] = hash;
  }
  return accept({ type: 'FILE', value: strongestHash(hashes), hashes });
}

/** The value of a FILE observable: its strongest hash (SHA512 > SHA256 > SHA1 > MD5). */
export function strongestHash(hashes: StoredFileHashes): string {
  for (const { key } of STRONGEST_FIRST) {
    const hash = hashes[key];
    if (hash) return hash;
  }
  throw new Error('strongestHash() needs at least one hash');
}

/** The hashes of a FILE observable, ordered MD5, SHA1, SHA256, SHA512. */
export function fileHashList(hashes: StoredFileHashes): Array<{ algorithm: HashAlgorithm; value: string }> {
  const list: Array<{ algorithm: HashAlgorithm; value: string }> = [];
  for (const { algorithm, key } of HASH_ALGORITHM_SPECS) {
    const value = hashes[key];
    if (value) list.push({ algorithm, value });
  }
  return list;
}

// --- Domains --------------------------------------------------------------------------------

/**
 * Lower case, without the trailing root dot, Unicode (IDN) labels as punycode (`xn--` input
 * is kept). At least two labels, a TLD that is not all digits, labels of 1-63 characters
 * from [a-z0-9-_] not starting or ending with '-', at most 253 characters in total.
 */
function canonicalDomain(text: string): Checked<string> {
  let domain = text.toLowerCase();
  if (NEEDS_IDNA.test(domain)) {
    domain = domainToASCII(domain);
    if (domain === '') return { ok: false, reason: `${quote(text)} is not a valid internationalised domain name` };
  }
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  if (domain.length > MAX_DOMAIN_LENGTH) {
    return { ok: false, reason: `the domain is ${domain.length} characters long; the maximum is ${MAX_DOMAIN_LENGTH}` };
  }
  const labels = domain.split('.');
  if (labels.length < 2) return { ok: false, reason: `${quote(text)} needs at least two labels, like example.com` };
  for (const label of labels) {
    if (label === '')
      return { ok: false, reason: `${quote(text)} has an empty label (a leading dot or two dots in a row)` };
    if (label.length > MAX_LABEL_LENGTH) {
      return { ok: false, reason: `the label ${quote(label)} is longer than ${MAX_LABEL_LENGTH} characters` };
    }
    if (!DOMAIN_LABEL.test(label)) {
      return { ok: false, reason: `the label ${quote(label)} may only contain letters, digits, "-" and "_"` };
    }
    if (label.startsWith('-') || label.endsWith('-')) {
      return { ok: false, reason: `the label ${quote(label)} must not start or end with "-"` };
    }
  }
  if (ALL_DIGITS.test(labels[labels.length - 1])) {
    return { ok: false, reason: `${quote(text)} has an all-numeric top-level domain` };
  }
  return { ok: true, value: domain };
}

/** `evil.com:8080` is the domain `evil.com`: like for IPs, the port is not part of the indicator. */
function parseDomainWithOptionalPort(text: string): ParseResult {
  const withPort = HOST_WITH_PORT.exec(text);
  const port = checkPort(withPort?.[2]);
  if (!port.ok) return reject('INVALID_DOMAIN', port.reason);
  const host = withPort ? withPort[1] : text;
  // Characters no domain can have (a Windows path, a sentence fragment) mean it is no domain at all.
  if (!DOMAIN_CHARACTERS.test(host)) return unrecognised();
  const domain = canonicalDomain(host);
  return domain.ok ? accept({ type: 'DOMAIN', value: domain.value }) : reject('INVALID_DOMAIN', domain.reason);
}

// --- Emails ---------------------------------------------------------------------------------

/**
 * `local@domain`, with the domain canonical as for DOMAIN observables. The local part is
 * lower-cased: mailbox names are case-sensitive in theory but not in practice, and IOC
 * matching must not miss `Admin@evil.com` because it was listed as `admin@evil.com`.
 */
function parseEmail(text: string): ParseResult {
  const at = text.lastIndexOf('@');
  if (at === -1) return reject('INVALID_EMAIL', `${quote(text)} is not an email address: it has no "@"`);
  const localPart = text.slice(0, at);
  if (localPart === '') return reject('INVALID_EMAIL', 'the email address has nothing before the "@"');
  if (localPart.length > MAX_EMAIL_LOCAL_LENGTH) {
    return reject('INVALID_EMAIL', `the part before the "@" is longer than ${MAX_EMAIL_LOCAL_LENGTH} characters`);
  }
  if (!EMAIL_LOCAL_PART.test(localPart)) {
    return reject(
      'INVALID_EMAIL',
      `the part before the "@" (${quote(localPart)}) contains characters an email address cannot have`,
    );
  }
  const domain = canonicalDomain(text.slice(at + 1));
  if (!domain.ok) return reject('INVALID_EMAIL', `invalid email domain: ${domain.reason}`);
  return accept({ type: 'EMAIL', value: `${localPart.toLowerCase()}@${domain.value}` });
}

// --- URLs -----------------------------------------------------------------------------------

/** `evil.com/payload.exe`, `1.2.3.4:8080/x`, `[2001:db8::1]/x`: a host followed by a path or query. */
function isSchemelessUrl(text: string): boolean {
  const pathStart = text.search(PATH_OR_QUERY_START);
  if (pathStart <= 0) return false;
  const authority = text.slice(0, pathStart);
  return SCHEMELESS_URL_AUTHORITY.test(authority) && (authority.startsWith('[') || DOMAIN_DOT.test(authority));
}

/**
 * The host of a URL must be an IP address or a domain by the same rules as bare values.
 * WHATWG URL already canonicalises hosts of special schemes (http, https, ftp, ws, wss),
 * including its own reading of hex/octal/short IPv4 (`http://0x7f.1/` → `127.0.0.1`, as a
 * browser would go there). Other schemes (tcp, udp, smb, sftp, ftps) get an opaque,
 * percent-encoded host from WHATWG, so the canonicalisation here does it for them.
 */
function canonicalUrlHost(hostname: string): Checked<string> {
  if (hostname.startsWith('[')) {
    const ip = canonicalIpv6(hostname.slice(1, -1));
    if (!ip.ok) return ip;
    return { ok: true, value: ip.value.type === 'IPV6' ? `[${ip.value.value}]` : ip.value.value };
  }
  const ipv4 = canonicalIpv4(hostname);
  if (ipv4 !== undefined) return { ok: true, value: ipv4 };
  let decoded: string;
  try {
    decoded = decodeURIComponent(hostname);
  } catch {
    return { ok: false, reason: `${quote(hostname)} is not a valid host name` };
  }
  return canonicalDomain(decoded);
}

/**
 * Canonical URL = WHATWG URL serialisation (lower-case scheme and host, default port
 * dropped, dot segments resolved, characters WHATWG requires percent-encoded encoded;
 * path and query otherwise exactly as given, as they are case-sensitive) with the host
 * canonical as for bare values and the fragment dropped (it never reaches the server).
 *
 * Stability: the canonical form must parse back to itself. WHATWG can produce text that our
 * input cleaning would change again (dropping `#x` from `a,#x` leaves a trailing `,`; `\`
 * becomes `/` and may form `[://]`), so the result is fed back until it is a fixed point.
 */
function parseUrl(text: string, scheme: string, round = 1): ParseResult {
  if (!SUPPORTED_URL_SCHEMES.has(scheme)) {
    return reject(
      'UNSUPPORTED_URL_SCHEME',
      `the URL scheme "${scheme}" is not supported (supported: ${[...SUPPORTED_URL_SCHEMES].join(', ')})`,
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    const hasHost = text.length > scheme.length + '://'.length;
    return reject('INVALID_URL', hasHost ? `${quote(text)} is not a valid URL` : 'the URL has no host');
  }
  if (url.hostname === '') return reject('INVALID_URL', 'the URL has no host');
  const host = canonicalUrlHost(url.hostname);
  if (!host.ok) return reject('INVALID_URL', `invalid URL host: ${host.reason}`);
  if (host.value !== url.hostname) url.hostname = host.value;
  url.hash = '';

  const canonical = url.href;
  if (canonical.length > MAX_OBSERVABLE_LENGTH) {
    return reject(
      'TOO_LONG',
      `the URL is ${canonical.length} characters long once normalised; the maximum is ${MAX_OBSERVABLE_LENGTH}`,
    );
  }
  const recleaned = refangUntilSettled(unwrap(canonical)).text;
  if (recleaned === canonical) return accept({ type: 'URL', value: canonical });
  if (round >= MAX_URL_ROUNDS) return reject('INVALID_URL', `${quote(text)} has no stable normal form`);
  const recleanedScheme = URL_SCHEME.exec(recleaned);
  if (!recleanedScheme) return reject('INVALID_URL', `${quote(text)} has no stable normal form`);
  return parseUrl(recleaned, recleanedScheme[1].toLowerCase(), round + 1);
}
