// The CSV reader on the quirks of real IOC files: small generated inputs for each quirk,
// then every real feed and analyst CSV in ../shared/fixtures/real when it is there.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { readCsv, type CsvDelimiter } from '../src/modules/imports/tabular/csv.ts';
import { UnreadableFileError, type Table, type TableRow } from '../src/modules/imports/tabular/table.ts';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

async function readRows(table: Table): Promise<TableRow[]> {
  const rows: TableRow[] = [];
  for await (const row of table.rows) rows.push(row);
  return rows;
}

async function read(content: string | Buffer) {
  const table = readCsv(typeof content === 'string' ? Buffer.from(content) : content);
  const rows = await readRows(table);
  return { table, rows, cells: rows.map((row) => row.cells), lines: rows.map((row) => row.line) };
}

/** The rows read before the iteration failed, and the failure. */
async function readUntilError(table: Table): Promise<{ rows: TableRow[]; error: unknown }> {
  const rows: TableRow[] = [];
  try {
    for await (const row of table.rows) rows.push(row);
  } catch (error) {
    return { rows, error };
  }
  return { rows, error: null };
}

function refusal(content: Buffer): UnreadableFileError {
  try {
    readCsv(content);
  } catch (error) {
    expect(error).toBeInstanceOf(UnreadableFileError);
    return error as UnreadableFileError;
  }
  throw new Error('readCsv accepted the file');
}

describe('encodings', () => {
  it('drops a UTF-8 BOM', async () => {
    const { cells, table } = await read(Buffer.concat([BOM, Buffer.from('ioc,type\n1.2.3.4,ip\n')]));
    expect(cells).toEqual([
      ['ioc', 'type'],
      ['1.2.3.4', 'ip'],
    ]);
    expect(table).toMatchObject({ sheets: [], sheet: null, delimiter: ',' });
  });

  it('finds a commented header right after a BOM', async () => {
    const { table, lines } = await read(Buffer.concat([BOM, Buffer.from('#ip,ioc\n1.2.3.4,C2\n')]));
    expect(table.commentedHeader).toEqual({ line: 1, cells: ['ip', 'ioc'] });
    expect(lines).toEqual([2]);
  });

  it('reads UTF-16 LE with a BOM (Excel "Unicode text": tabs, CRLF)', async () => {
    const text = 'Indicator\tType\tNote\r\nmalware-café.example\tdomain\tC2 ☠\r\n10.0.0.1\tip\t\r\n';
    const { table, cells, lines } = await read(
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    );
    expect(table.delimiter).toBe('\t');
    expect(cells).toEqual([
      ['Indicator', 'Type', 'Note'],
      ['malware-café.example', 'domain', 'C2 ☠'],
      ['10.0.0.1', 'ip', ''],
    ]);
    expect(lines).toEqual([1, 2, 3]);
  });

  it('reads UTF-16 BE with a BOM', async () => {
    const bigEndian = Buffer.from('\ufeffip;note\n1.2.3.4;héllo\n', 'utf16le').swap16();
    expect(bigEndian.subarray(0, 2)).toEqual(Buffer.from([0xfe, 0xff]));
    const { table, cells } = await read(bigEndian);
    expect(table.delimiter).toBe(';');
    expect(cells).toEqual([
      ['ip', 'note'],
      ['1.2.3.4', 'héllo'],
    ]);
  });

  it('turns invalid UTF-8 (a Windows-1252 file) into U+FFFD', async () => {
    const latin1 = Buffer.from('domain,note\nevil.example,caf\xe9 \xab C2 \xbb\n', 'latin1');
    const { cells } = await read(latin1);
    expect(cells[1]).toEqual(['evil.example', 'caf\ufffd \ufffd C2 \ufffd']);
  });

  it.each(['\xffes,1\n', '\xfeorn,1\n', 'a\xfe,1\n', 'a\xff,1\n'])(
    'takes a file starting like half a UTF-16 BOM (%j in Windows-1252) for UTF-8',
    async (text) => {
      const { cells } = await read(Buffer.from(text, 'latin1'));
      expect(cells).toEqual([
        text
          .replace(/[\xfe\xff]/, '\ufffd')
          .trimEnd()
          .split(','),
      ]);
    },
  );

  it('keeps characters and CRLFs whole across chunk boundaries', async () => {
    // 11 bytes a row: a 2-, 3- and 4-byte character and CRLF. Shifting the rows by 0-10
    // bytes puts every byte of a row on every chunk boundary, whatever the chunk size.
    const row = 'é€😀\r\n';
    for (let shift = 0; shift < Buffer.byteLength(row); shift++) {
      const content = `#${'x'.repeat(shift)}\r\n${row.repeat(40_000)}`;
      const { rows } = await read(content);
      expect(rows).toHaveLength(40_000);
      const wrong = rows.find((r, index) => r.line !== index + 2 || r.cells.length !== 1 || r.cells[0] !== 'é€😀');
      expect(wrong).toBeUndefined();
    }
  });
});

describe('files that are not CSV', () => {
  const notText = /^this is not a text \(CSV\) file/;

  it.each([
    ['a PNG image renamed .csv', Buffer.from('89504e470d0a1a0a0000000d4948445200000010', 'hex')],
    [
      'a ZIP archive (an .xlsx workbook)',
      Buffer.concat([Buffer.from('504b030414000600080000002100', 'hex'), Buffer.from('[Content_Types].xml')]),
    ],
    ['UTF-16 without a BOM', Buffer.from('ip,type\n1.2.3.4,ip\n', 'utf16le')],
    ['control bytes without a NUL', Buffer.from(Array.from({ length: 200 }, (_, i) => (i % 8) + 1))],
  ])('refuses %s from its first bytes', (_, content) => {
    const error = refusal(content);
    expect(error.code).toBe('UNSUPPORTED_FORMAT');
    expect(error.message).toMatch(notText);
  });

  it.each([
    ['a single NUL', Buffer.from('ip\n1.2.3.4\0\n'), 'it contains NUL bytes'],
    ['five escape characters', Buffer.from('ip\n\x1b\x1b\x1b\x1b\x1b\n'), 'it contains binary data'],
    ['controls above CR', Buffer.from([0x69, 0x70, 0x0a, 14, 15, 16, 17, 27, 31, 0x0a]), 'it contains binary data'],
    ['DEL characters', Buffer.from(`ip\n${'\x7f'.repeat(8)}\n`), 'it contains binary data'],
  ])('refuses %s, saying so', (_, content, reason) => {
    expect(refusal(content).message).toBe(
      `this is not a text (CSV) file: ${reason} in its first bytes. Save it as CSV (UTF-8) and try again.`,
    );
  });

  it('tolerates four control characters in a short file, and one in a hundred characters in a long one', async () => {
    expect((await read('ip\n\x1b\x1b\x1b\x1b\n')).cells).toEqual([['ip'], ['\x1b\x1b\x1b\x1b']]);
    const long = await read(`ip\n${'\x1b'.repeat(10)}\n${'1.2.3.4\n'.repeat(1100)}`);
    expect(long.rows).toHaveLength(1102);
  });

  it('takes DOS end-of-file marks (0x1A) for text', async () => {
    const { cells } = await read(`ip\n1.2.3.4\n${'\x1a'.repeat(8)}`);
    expect(cells).toEqual([['ip'], ['1.2.3.4'], ['\x1a'.repeat(8)]]);
  });

  it('tolerates stray control characters, and looks for binary only in the first bytes', async () => {
    // A terminal colour code pasted into a cell is text; a NUL far into the file is not looked for.
    const { cells } = await read(`ip,note\n1.2.3.4,\x1b[31mred\x1b[0m\n${'5.6.7.8,x\n'.repeat(1000)}\0\n`);
    expect(cells[1]).toEqual(['1.2.3.4', '\x1b[31mred\x1b[0m']);
  });

  it.each([
    ['no bytes at all', Buffer.alloc(0), 'the file is empty'],
    ['only a BOM', BOM, 'the file is empty'],
    ['only blank lines and spaces', Buffer.from(' \n\t\r\n\r  \n'), 'the file is empty'],
    [
      'only comments and blank lines',
      Buffer.from('#####\n# Feed banner\n#\n\n# END 0 entries'),
      'the file has no data rows, only comment (#) and blank lines',
    ],
  ])('refuses a file with %s as EMPTY_FILE', (_, content, message) => {
    const error = refusal(content);
    expect(error.code).toBe('EMPTY_FILE');
    expect(error.message).toBe(message);
  });
});

describe('delimiters', () => {
  it.each<[string, CsvDelimiter]>([
    ['comma', ','],
    ['semicolon', ';'],
    ['tab', '\t'],
    ['pipe', '|'],
  ])('detects the %s and keeps the others inside quoted cells', async (_, delimiter) => {
    const content = [
      ['value', 'type', 'comment'],
      ['1.2.3.4', 'ip', '"seen, then; gone | back\tagain"'],
      ['evil.example', 'domain', 'plain'],
    ]
      .map((row) => row.join(delimiter))
      .join('\n');
    const { table, cells } = await read(content);
    expect(table.delimiter).toBe(delimiter);
    expect(cells).toEqual([
      ['value', 'type', 'comment'],
      ['1.2.3.4', 'ip', 'seen, then; gone | back\tagain'],
      ['evil.example', 'domain', 'plain'],
    ]);
  });

  it('ignores comment lines when detecting', async () => {
    const { table, cells } = await read('# a, b, c, d, e, f\n# g,h,i\n1.2.3.4;ip\n5.6.7.8;ip\n');
    expect(table.delimiter).toBe(';');
    expect(cells).toEqual([
      ['1.2.3.4', 'ip'],
      ['5.6.7.8', 'ip'],
    ]);
  });

  it('prefers the delimiter on every line to one inside some values', async () => {
    const { table, cells } = await read('ip;port;note\n1.1.1.1;80;C2, active\n2.2.2.2;443;C2, old\n3.3.3.3;22;ssh\n');
    expect(table.delimiter).toBe(';');
    expect(cells[1]).toEqual(['1.1.1.1', '80', 'C2, active']);
  });

  it('reads a list with a comma or semicolon in a few values as one column', async () => {
    const urls = ['http://a.example/x;y', 'http://b.example/', 'http://c.example/?q=1,2', 'http://d.example/'];
    const { table, cells } = await read(urls.join('\n'));
    expect(table.delimiter).toBeNull();
    expect(cells).toEqual(urls.map((url) => [url]));
  });

  it.each<[string, string, CsvDelimiter]>([
    ['ignores delimiters inside quotes', '"a,b";c\n"d,e";f\n"g,h";i\n', ';'],
    ['takes the one making more cells when both split every line', '1.2.3.4;80;x,y\n5.6.7.8;443;z,w\n', ';'],
    ['prefers the comma in a full tie', 'a,b;c\nd,e;f\n', ','],
    ['prefers the semicolon to the tab in a full tie', 'a;b\tc\nd;e\tf\n', ';'],
    ['prefers the tab to the pipe in a full tie', 'a\tb|c\nd\te|f\n', '\t'],
    ['prefers the one splitting every line alike to one making more cells on some', 'a;b;c;d,e\nf;g;h;i,j\nk,l\n', ','],
    ['counts, for each, the most cells among equally common counts', 'a,b,c\na,b;c;d\n', ','],
    ['counts the most cells whichever line comes first', 'a,b;c;d\na,b,c\n', ','],
    ['takes a delimiter found on half the lines', 'a,b,c\nd;e\n', ','],
  ])('%s', async (_, content, delimiter) => {
    expect((await read(content)).table.delimiter).toBe(delimiter);
  });

  it('decides from the first 50 data lines', async () => {
    const first50 = 'a,b\nc;d\n'.repeat(25);
    expect((await read(`${first50}${'e;f\n'.repeat(100)}`)).table.delimiter).toBe(',');
  });

  it('reads a file whose only data line has no line break', async () => {
    const { table, cells } = await read('# banner\n1.2.3.4;80');
    expect(table.delimiter).toBe(';');
    expect(cells).toEqual([['1.2.3.4', '80']]);
  });

  it('does not take a line with a "#" inside for a comment', async () => {
    const { table, cells } = await read('http://a.example/#x;1\nhttp://b.example/#y;2\n');
    expect(table.delimiter).toBe(';');
    expect(cells).toEqual([
      ['http://a.example/#x', '1'],
      ['http://b.example/#y', '2'],
    ]);
  });

  it('detects the delimiter below a banner longer than the first 64 KB read', async () => {
    const banner = `# ${'x'.repeat(78)}\n`.repeat(819);
    // The first 64 KB end four characters into the first data line, whose start alone would tie.
    const content = `${banner.slice(0, 64 * 1024 - 5)}\n${'a,b;c;d;e\n'.repeat(3)}`;
    const { table, rows } = await read(content);
    expect(table.delimiter).toBe(';');
    expect(rows.map((row) => row.cells)).toEqual(Array(3).fill(['a,b', 'c', 'd', 'e']));
    expect(rows[0].line).toBe(banner.slice(0, 64 * 1024 - 5).split('\n').length + 1);
  });

  it('finds the data and its commented header below a 200 KB banner', async () => {
    const banner = `# ${'x'.repeat(78)}\n`.repeat(2500);
    const { table, rows } = await read(`${banner}# ip;port\n1.2.3.4;80\n`);
    expect(table.delimiter).toBe(';');
    expect(table.commentedHeader).toEqual({ line: 2501, cells: ['ip', 'port'] });
    expect(rows).toEqual([{ line: 2502, cells: ['1.2.3.4', '80'] }]);
  });

  it('keeps control characters in a one-column file', async () => {
    const { table, cells } = await read('hash\nAA\x01BB\nCC\n');
    expect(table.delimiter).toBeNull();
    expect(cells).toEqual([['hash'], ['AA\x01BB'], ['CC']]);
  });

  it('reads a one-column file with a header', async () => {
    const { table, cells } = await read('hash\nAAAA\nBBBB\n');
    expect(table.delimiter).toBeNull();
    expect(cells).toEqual([['hash'], ['AAAA'], ['BBBB']]);
  });
});

describe('quoting', () => {
  it('reads delimiters, doubled quotes and line breaks inside quoted cells', async () => {
    const { cells, lines } = await read('id,note\n1,"a, b"\n2,"say ""hi"""\n3,"multi\nline\r\nnote"\n4,last\n');
    expect(cells).toEqual([
      ['id', 'note'],
      ['1', 'a, b'],
      ['2', 'say "hi"'],
      ['3', 'multi\nline\r\nnote'],
      ['4', 'last'],
    ]);
    expect(lines).toEqual([1, 2, 3, 4, 7]);
  });

  it('opens a quoted cell after blanks (ThreatFox\'s `", "` export)', async () => {
    const { cells } = await read('"ioc_value", "ioc_type", "tags"\n"evil.example", "domain", "c2,botnet"\n');
    expect(cells).toEqual([
      ['ioc_value', 'ioc_type', 'tags'],
      ['evil.example', 'domain', 'c2,botnet'],
    ]);
  });

  it('keeps a quote inside an unquoted cell and text after a closing quote', async () => {
    const { cells } = await read('name,size\n5" floppy,1\n"a"b,2\n"",3\n""\n');
    expect(cells).toEqual([['name', 'size'], ['5" floppy', '1'], ['ab', '2'], ['', '3'], ['']]);
  });

  it('opens a quoted cell after a tab in a comma file, and keeps empty cells in a tab file', async () => {
    expect((await read('a,b\na,\t"b,c"\n')).cells).toEqual([
      ['a', 'b'],
      ['a', 'b,c'],
    ]);
    expect((await read('ioc\ttype\n\tdomain\nx\ty\n')).cells).toEqual([
      ['ioc', 'type'],
      ['', 'domain'],
      ['x', 'y'],
    ]);
  });

  it('trims blanks after a closing quote', async () => {
    expect((await read('x,y,z\nx,"quoted"  ,y\n')).cells).toEqual([
      ['x', 'y', 'z'],
      ['x', 'quoted', 'y'],
    ]);
  });

  it('keeps doubled quotes whole across chunk boundaries', async () => {
    // 16 bytes a row: shifting the rows by 0-15 bytes puts each quote on a chunk boundary.
    const row = '"a ""b"" c",x\r\n';
    for (let shift = 0; shift < row.length; shift++) {
      const { rows } = await read(`#${'x'.repeat(shift)}\r\n${row.repeat(4_000)}`);
      expect(rows).toHaveLength(4_000);
      const wrong = rows.find((r, index) => r.line !== index + 2 || r.cells.join('|') !== 'a "b" c|x');
      expect(wrong).toBeUndefined();
    }
  });

  it('reads a file of quoted cells much larger than the longest row allowed', async () => {
    const { rows } = await read('"a",b\n'.repeat(200_000));
    expect(rows).toHaveLength(200_000);
    expect(rows.at(-1)).toEqual({ line: 200_000, cells: ['a', 'b'] });
  });

  it('does not take a line starting with # inside a quoted cell for a comment', async () => {
    const { cells } = await read('a,"x\n# not a comment"\nb,y\n');
    expect(cells).toEqual([
      ['a', 'x\n# not a comment'],
      ['b', 'y'],
    ]);
  });
});

describe('line endings and line numbers', () => {
  const rows = ['ip,port', '1.2.3.4,80', '5.6.7.8,443'];

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('reads %s line endings, with or without a final one', async (_, lineEnd) => {
    for (const content of [rows.join(lineEnd) + lineEnd, rows.join(lineEnd)]) {
      const { cells, lines } = await read(content);
      expect(cells).toEqual(rows.map((row) => row.split(',')));
      expect(lines).toEqual([1, 2, 3]);
    }
  });

  it('counts comment, blank and quoted lines in mixed line endings', async () => {
    const content = [
      '# banner\r\n', // 1
      '#\r\n', // 2
      '\r\n', // 3
      'value,note\r\n', // 4
      '1.2.3.4,"first\nsecond\r\nthird"\n', // 5-7
      '   \n', // 8
      '  # indented comment\r', // 9
      'evil.example,"a ""quoted""\r\n\r\nline"\r\n', // 10-12
      '# mid-file comment\n', // 13
      '\t\n', // 14
      'last.example,end\n', // 15
      '# END 3 entries', // 16
    ].join('');
    const { table, rows: read_ } = await read(content);
    expect(table.commentedHeader).toBeNull();
    expect(read_).toEqual([
      { line: 4, cells: ['value', 'note'] },
      { line: 5, cells: ['1.2.3.4', 'first\nsecond\r\nthird'] },
      { line: 10, cells: ['evil.example', 'a "quoted"\r\n\r\nline'] },
      { line: 15, cells: ['last.example', 'end'] },
    ]);
  });

  it('counts blank lines between rows, and bare CRs inside quoted cells', async () => {
    expect((await read('a,b\n\nc,d\n')).lines).toEqual([1, 3]);
    expect((await read('id,note\n1,"a\rb"\n2,c\n')).rows).toEqual([
      { line: 1, cells: ['id', 'note'] },
      { line: 2, cells: ['1', 'a\rb'] },
      { line: 4, cells: ['2', 'c'] },
    ]);
    expect((await read('id,note\n1,"a\r\rb"\n2,c\n')).lines).toEqual([1, 2, 5]);
  });

  it('skips a last line of blanks without a line break', async () => {
    expect((await read('ip\n1.2.3.4\n   ')).cells).toEqual([['ip'], ['1.2.3.4']]);
  });

  it('reads the last row of a file that ends exactly at a chunk boundary', async () => {
    const content = `ip,port\n${'1.2.3.4,80\n'.repeat(2978)}xx`;
    expect(content).toHaveLength(32 * 1024);
    const { rows } = await read(content);
    expect(rows).toHaveLength(2980);
    expect(rows.at(-1)).toEqual({ line: 2980, cells: ['xx'] });
  });

  it('numbers the rows of a file much larger than a chunk', async () => {
    const row = '"multi\nline",x\n# comment\n\nplain,y\n';
    const { rows: read_ } = await read(row.repeat(20_000));
    expect(read_).toHaveLength(40_000);
    const wrong = read_.find((r, index) => r.line !== Math.floor(index / 2) * 5 + (index % 2 === 0 ? 1 : 5));
    expect(wrong).toBeUndefined();
  });
});

describe('cells', () => {
  it('trims cells', async () => {
    const { cells } = await read('Address,url\ntpowe2.com, IOC FOUND\n  spaced.example  ,\tIOC FOUND \n');
    expect(cells).toEqual([
      ['Address', 'url'],
      ['tpowe2.com', 'IOC FOUND'],
      ['spaced.example', 'IOC FOUND'],
    ]);
  });

  it('keeps empty header names and empty columns', async () => {
    const { cells } = await read(
      'MD5,,C2,Malware Family\ndd1101adc86fd282f5f183942cc2f3b7,,wjwj.no-ip.org,CyberGate\n',
    );
    expect(cells).toEqual([
      ['MD5', '', 'C2', 'Malware Family'],
      ['dd1101adc86fd282f5f183942cc2f3b7', '', 'wjwj.no-ip.org', 'CyberGate'],
    ]);
  });

  it('keeps trailing empty columns', async () => {
    const { cells } = await read(
      'Indicator,Data,Notes,,,,\r\nip,91.220.202.143,EAGERBEE C2,,,,\r\n"domain","x.example","",\n',
    );
    expect(cells).toEqual([
      ['Indicator', 'Data', 'Notes', '', '', '', ''],
      ['ip', '91.220.202.143', 'EAGERBEE C2', '', '', '', ''],
      ['domain', 'x.example', '', ''],
    ]);
  });

  it('returns ragged rows as they are', async () => {
    const { table, cells } = await read('ip,port\n1.2.3.4,80,extra,cells\n5.6.7.8\n9.9.9.9,22\n');
    expect(table.delimiter).toBe(',');
    expect(cells).toEqual([['ip', 'port'], ['1.2.3.4', '80', 'extra', 'cells'], ['5.6.7.8'], ['9.9.9.9', '22']]);
  });
});

describe('commented header', () => {
  it.each([
    ['#ip,ioc\n1.2.3.4,C2\n', { line: 1, cells: ['ip', 'ioc'] }],
    ['#####\n# SSL IPBL #\n#\n# DstIP,DstPort\n1.2.3.4,443,URLzone C&C\n', { line: 4, cells: ['DstIP', 'DstPort'] }],
    ['# id,dateadded,url\n1,2024-01-01,http://x.example/\n', { line: 1, cells: ['id', 'dateadded', 'url'] }],
    ['# ip;port\n1.2.3.4;80\n', { line: 1, cells: ['ip', 'port'] }],
    ['## "Malware Family", "First seen (UTC)"\nA,2024\n', { line: 1, cells: ['Malware Family', 'First seen (UTC)'] }],
    ['# banner\n#\n# md5_hash\n98516400e20d10be5d0f6e2462e33df3\n', { line: 3, cells: ['md5_hash'] }],
    ['  # ip,port\n1.2.3.4,80\n', { line: 1, cells: ['ip', 'port'] }],
  ])('reads the header of %j', async (content, header) => {
    const { table, rows } = await read(content);
    expect(table.commentedHeader).toEqual(header);
    expect(rows[0].line).toBe(header.line + 1);
  });

  it.each([
    ['a banner line', '# Last updated: 2024-04-04 07:03:03 UTC\n1.2.3.4,80,x\n'],
    ['an empty comment', '#\n"first_seen_utc","dst_ip"\n'],
    ['a sentence with a comma', '# Generated by the SOC team, do not edit by hand\n1.2.3.4,80\n'],
    ['a commented-out data row', '# 1.2.3.4,443\n5.6.7.8,80\n'],
    ['a commented-out domain row', '#evil.example,malware\ngood.example,benign\n'],
    ['one word above two columns', '# Indicators\nip,type\n'],
    ['a title above a list', '# MalwareBazaar recent malware samples (MD5 hashes) #\nAAAA\n'],
    ['a header separated by a blank line', '# md5_hash\n\nAAAA\n'],
    ['a comment below the first data row', 'ip,port\n# ip,port\n1.2.3.4,80\n'],
  ])('does not take %s for a header', async (_, content) => {
    const { table } = await read(content);
    expect(table.commentedHeader).toBeNull();
  });
});

describe('broken quoting', () => {
  it('yields the rows before an unterminated quote, then fails with its line', async () => {
    const table = readCsv(Buffer.from('a,b\n1,"ok"\n2,"multi\nline"\n3,"never closed\n4,x\n5,y\n'));
    const { rows, error } = await readUntilError(table);
    expect(rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['1', 'ok'] },
      { line: 3, cells: ['2', 'multi\nline'] },
    ]);
    expect(error).toBeInstanceOf(UnreadableFileError);
    expect(error).toMatchObject({ code: 'MALFORMED_FILE', message: 'line 5: unterminated quoted field' });
  });

  it('names the line of the opening quote, not of its row', async () => {
    const { rows, error } = await readUntilError(readCsv(Buffer.from('a,b,c\n1,"two\nlines", "open\nx,y,z\n')));
    expect(rows).toEqual([{ line: 1, cells: ['a', 'b', 'c'] }]);
    expect(error).toMatchObject({ code: 'MALFORMED_FILE', message: 'line 3: unterminated quoted field' });
  });

  it('stops early in a large file instead of carrying the open quote to the end', async () => {
    const good = 'ip,port\n'.repeat(1000);
    const content = Buffer.from(`${good}1.2.3.4,"80\n${'5.6.7.8,443\n'.repeat(200_000)}`);
    const { rows, error } = await readUntilError(readCsv(content));
    expect(rows).toHaveLength(1000);
    expect(error).toMatchObject({ code: 'MALFORMED_FILE', message: 'line 1001: unterminated quoted field' });
  });

  it('reads a row or a quoted cell of exactly 1 MiB characters', async () => {
    const mebibyte = 1 << 20;
    expect((await read(`${'x'.repeat(mebibyte)}\n`)).cells).toEqual([['x'.repeat(mebibyte)]]);
    expect((await read(`"${'x'.repeat(mebibyte - 2)}"\n`)).cells).toEqual([['x'.repeat(mebibyte - 2)]]);
  });

  it('refuses a row longer than a million characters', async () => {
    const { rows, error } = await readUntilError(readCsv(Buffer.from(`ip,port\n1.2.3.4,${'x'.repeat(1_100_000)}\n`)));
    expect(rows).toHaveLength(1);
    expect(error).toMatchObject({
      code: 'MALFORMED_FILE',
      message: 'line 2: the row is longer than 1048576 characters',
    });
  });
});

describe('streaming', () => {
  it('reads the file again at each iteration, and can stop early', async () => {
    const table = readCsv(Buffer.from('ip\n1.1.1.1\n2.2.2.2\n'));
    for await (const row of table.rows) {
      expect(row).toEqual({ line: 1, cells: ['ip'] });
      break;
    }
    expect(await readRows(table)).toHaveLength(3);
    expect(await readRows(table)).toHaveLength(3);
  });

  // Not under Stryker (scripts/mutation.ts): a mutant that keeps every row makes this test fill a
  // worker's heap, which ends the whole run; the tests above hold the rules it relies on.
  it.skipIf(process.env.MUTATION_TEST_FILES)(
    'reads 500,000 rows of 5 columns (100 MB) row by row, in little memory',
    async () => {
      const rowCount = 500_000;
      const parts = ['sha256,url,ip,first_seen,description\n'];
      for (let i = 0; i < rowCount; i++) {
        const hash = ((i * 2654435761) >>> 0).toString(16).padStart(8, '0').repeat(8);
        const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
        const url = `http://payload-${i}.example.com/path/to/stage-two/payload-${i}.exe`;
        parts.push(`${hash},${url},${ip},2024-01-01 12:00:00,Cobalt Strike beacon seen in campaign ${i % 97}\n`);
      }
      const content = Buffer.from(parts.join(''));
      parts.length = 0;
      // A heap measured after a full collection, so that the growth is the reader's.
      v8.setFlagsFromString('--expose-gc');
      const collectGarbage = vm.runInNewContext('gc') as () => void;
      collectGarbage();
      const heapBefore = process.memoryUsage().heapUsed;
      let peakHeap = heapBefore;
      let count = 0;
      let lastLine = 0;
      const started = performance.now();
      for await (const row of readCsv(content).rows) {
        count++;
        lastLine = row.line;
        if (count % 10_000 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      }
      const seconds = (performance.now() - started) / 1000;
      const heapGrowth = peakHeap - heapBefore;
      console.log(
        `CSV: ${count} rows, ${(content.length / 1e6).toFixed(0)} MB in ${seconds.toFixed(2)} s: ` +
          `${Math.round(count / seconds)} rows/s; heap grew at most ${(heapGrowth / 1e6).toFixed(0)} MB`,
      );
      expect(count).toBe(rowCount + 1);
      expect(lastLine).toBe(rowCount + 1);
      // Streamed, the heap grows by about 10 MB; holding every row would take about 320 MB.
      expect(heapGrowth).toBeLessThan(64e6);
    },
  );
});

const fixtures = new URL('../../shared/fixtures/real/', import.meta.url);

interface FixtureExpectation {
  file: string;
  delimiter: CsvDelimiter | null;
  /** Cells in every row. */
  columns: number;
  rows: number;
  first: TableRow;
  commentedHeader: TableRow | null;
}

const FEODO_HEADER = ['first_seen_utc', 'dst_ip', 'dst_port', 'c2_status', 'last_online', 'malware'];

const REAL_FILES: FixtureExpectation[] = [
  {
    file: 'feeds/c2_ips_30day_commented_header.csv',
    delimiter: ',',
    columns: 2,
    rows: 1318,
    first: { line: 2, cells: ['172.21.25.140', 'TEST DATA'] },
    commentedHeader: { line: 1, cells: ['ip', 'ioc'] },
  },
  {
    file: 'feeds/emergingthreats_compromised-ips.txt',
    delimiter: null,
    columns: 1,
    rows: 539,
    first: { line: 1, cells: ['101.100.216.61'] },
    commentedHeader: null,
  },
  {
    file: 'feeds/feodotracker_ipblocklist.csv',
    delimiter: ',',
    columns: 6,
    rows: 29, // the quoted header and 28 entries
    first: { line: 9, cells: FEODO_HEADER },
    commentedHeader: null,
  },
  {
    file: 'feeds/feodotracker_ipblocklist_aggressive_2021_noheader.csv',
    delimiter: ',',
    columns: 6,
    rows: 473,
    first: { line: 1, cells: FEODO_HEADER },
    commentedHeader: null,
  },
  {
    file: 'feeds/malwarebazaar_recent_md5.txt',
    delimiter: null,
    columns: 1,
    rows: 507, // the trailer says `# Number of entries: 506`, but lines 10-516 hold 507 hashes
    first: { line: 10, cells: ['98516400e20d10be5d0f6e2462e33df3'] },
    commentedHeader: { line: 9, cells: ['md5_hash'] },
  },
  {
    file: 'feeds/sslbl_sslipblacklist_2015.csv',
    delimiter: ',',
    columns: 3,
    rows: 83,
    first: { line: 10, cells: ['104.130.17.100', '443', 'URLzone C&C'] },
    commentedHeader: { line: 9, cells: ['DstIP', 'DstPort'] },
  },
  {
    file: 'feeds/threatfox_domains_processed.csv',
    delimiter: ',',
    columns: 2,
    rows: 5000,
    first: { line: 1, cells: ['Address', 'url'] },
    commentedHeader: null,
  },
  {
    file: 'feeds/threatview_cobaltstrike_ips_with_dupes.txt',
    delimiter: null,
    columns: 1,
    rows: 2087,
    first: { line: 1, cells: ['106.12.219.245'] },
    commentedHeader: null,
  },
  {
    file: 'csv/ahamed_IOC-3rd_March_quoted.csv',
    delimiter: ',',
    columns: 3,
    rows: 391,
    first: { line: 1, cells: ['type', 'value', 'source'] },
    commentedHeader: null,
  },
  {
    file: 'csv/citizenlab_201512_PackRAT_md5-c2.csv',
    delimiter: ',',
    columns: 4,
    rows: 51,
    first: { line: 1, cells: ['MD5', '', 'C2', 'Malware Family'] },
    commentedHeader: null,
  },
  {
    file: 'csv/citizenlab_misp_201512_PackRAT_iocs.csv',
    delimiter: ',',
    columns: 8,
    rows: 137,
    first: { line: 1, cells: ['uuid', 'event_id', 'category', 'type', 'value', 'comment', 'to_ids', 'date'] },
    commentedHeader: null,
  },
  {
    file: 'csv/deepinstinct_Storm0978_RomCom_IOCs.csv',
    delimiter: ',',
    columns: 2,
    rows: 8,
    first: { line: 1, cells: ['Type', 'Value'] },
    commentedHeader: null,
  },
  {
    file: 'csv/nanparam_malhash_uppercase_sha256.csv',
    delimiter: null,
    columns: 1,
    rows: 136,
    first: { line: 1, cells: ['hash'] },
    commentedHeader: null,
  },
  {
    file: 'csv/sophos_2024-02_ScreenConnect_payloads.csv',
    delimiter: ',',
    columns: 3,
    rows: 35,
    first: { line: 1, cells: ['Indicator_type', 'Data', 'Note'] },
    commentedHeader: null,
  },
  {
    file: 'csv/sophos_ShaZhuPanfakeapps.csv',
    delimiter: ',',
    columns: 4,
    rows: 624,
    first: { line: 1, cells: ['Indicator_type', 'Data', 'Note', ''] },
    commentedHeader: null,
  },
  {
    file: 'csv/sophos_crimson_palace_stac1248-alpha.csv',
    delimiter: ',',
    columns: 7,
    rows: 39,
    first: { line: 1, cells: ['Indicator', 'Data', 'Notes', '', '', '', ''] },
    commentedHeader: null,
  },
];

describe.skipIf(!existsSync(fixtures))('real IOC files', () => {
  const readFixture = (file: string) => read(readFileSync(new URL(file, fixtures)));

  it.each(REAL_FILES)('reads $file', async (expected) => {
    const content = readFileSync(new URL(expected.file, fixtures));
    const { table, rows } = await read(content);
    expect(table.delimiter).toBe(expected.delimiter);
    expect(table.commentedHeader).toEqual(expected.commentedHeader);
    expect(rows).toHaveLength(expected.rows);
    expect(rows[0]).toEqual(expected.first);
    expect(rows.filter((row) => row.cells.length !== expected.columns)).toEqual([]);
    // Each row's line is the line of the file it starts on: a data line holding its first cell.
    const lines = content
      .toString('utf8')
      .replace(/^\ufeff/, '')
      .split(/\r\n|\r|\n/);
    for (const row of rows) {
      expect(lines[row.line - 1]).not.toMatch(/^\s*(#|$)/);
      expect(lines[row.line - 1]).toContain(row.cells[0]);
    }
  });

  it('covers every CSV and feed file there is', () => {
    const expected = REAL_FILES.map((fixture) => fixture.file).sort();
    const present = ['feeds', 'csv'].flatMap((folder) =>
      readdirSync(new URL(`${folder}/`, fixtures)).map((name) => `${folder}/${name}`),
    );
    expect(present.sort()).toEqual(expected);
  });

  it('feodotracker: the quoted header, 28 entries, the `# END` trailer skipped', async () => {
    const { rows } = await readFixture('feeds/feodotracker_ipblocklist.csv');
    const entries = rows.slice(1);
    expect(entries).toHaveLength(28);
    expect(entries.every((row) => row.cells[5] === 'Pikabot')).toBe(true);
    expect(rows.at(-1)?.line).toBe(37);
  });

  it('sslbl: 3-cell rows under a 2-name commented header, trailer skipped', async () => {
    const { rows } = await readFixture('feeds/sslbl_sslipblacklist_2015.csv');
    expect(rows.at(-1)).toEqual({ line: 92, cells: ['95.215.108.70', '443', 'Gozi C&C'] });
  });

  it('threatfox: the leading space of ` IOC FOUND` trimmed', async () => {
    const { cells } = await readFixture('feeds/threatfox_domains_processed.csv');
    expect(cells.slice(1).every((row) => row[1] === 'IOC FOUND')).toBe(true);
  });

  it('sophos ScreenConnect: BOM dropped, doubled quotes and a trailing space in a hash', async () => {
    const { cells } = await readFixture('csv/sophos_2024-02_ScreenConnect_payloads.csv');
    expect(cells).toContainEqual([
      'sha256',
      '2da975fee507060baa1042fb45e8467579abf3f348f1fd37b86bb742db63438a',
      '"enc.exe" ransomware executable',
    ]);
    expect(cells.map((row) => row[1])).toContain('55e4ce3fe726043070ecd7de5a74b2459ea8bed19ef2a36ce7884b2ab0863047');
  });

  it('citizenlab MISP export: the non-ASCII × kept', async () => {
    const { cells } = await readFixture('csv/citizenlab_misp_201512_PackRAT_iocs.csv');
    expect(cells.map((row) => row[4])).toContain(
      'http://venezuela365.com/wp-content/uploads/2014/10/tirado-g-300×169.jpg',
    );
  });
});
