// 500,000-row CSV and XLSX imports, end to end (upload → preview → import → job done),
// against a raw COPY of the same normalised rows into an identical table, in one run.
//   npm run bench:file-import            (embedded PostgreSQL; BENCH_ROWS to change the size)
import * as XLSX from '@e965/xlsx';
import {
  benchTenant,
  copyFloorMs,
  graphqlCall,
  observableGenerator,
  printBenchResult,
  seededRandom,
  spawnService,
  startBench,
  toGlobalId,
  type Bench,
} from './lib.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 500_000);
const THREATS = ['Emotet', 'TrickBot', 'Cobalt Strike', 'QakBot, IcedID', ''];

/** observable, first_seen, malware, tags (phases), comment: 5% duplicates, 1% invalid. */
function buildRows(): string[][] {
  const random = seededRandom(7);
  const next = observableGenerator(random);
  const rows: string[][] = [['ioc', 'first_seen', 'malware', 'tags', 'comment']];
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < ROWS; i += 1) {
    const r = random();
    const value = r < 0.01 ? `not an ioc ${i}` : r < 0.06 && i > 0 ? rows[1 + Math.floor(random() * i)][0] : next(i);
    const date = new Date(start + Math.floor(random() * 300) * 86_400_000).toISOString().slice(0, 19).replace('T', ' ');
    rows.push([value, date, THREATS[i % THREATS.length], i % 3 ? 'c2' : 'delivery', `row ${i} of the bench feed`]);
  }
  return rows;
}

const toCsv = (rows: string[][]) =>
  Buffer.from(
    rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n'),
  );

function toXlsx(rows: string[][]): Buffer {
  const book = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet(rows, { dense: true } as never), 'IOCs');
  return XLSX.write(book, { type: 'buffer', bookType: 'xlsx', compression: true });
}

async function upload(serviceUrl: string, key: string, collectionId: string, name: string, content: Buffer) {
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({
      query: `mutation($input: PreviewIndicatorFileInput!) { previewIndicatorFile(input: $input) {
        __typename ... on PreviewIndicatorFileSuccess { preview { fileHandle headerRowDetected columns { suggestedProperty } } }
        ... on Error { message } } }`,
      variables: { input: { collectionId, file: null } },
    }),
  );
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', new File([new Uint8Array(content)], name));
  const response = await fetch(`${serviceUrl}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: form,
  });
  const body = (await response.json()) as { data?: any; errors?: unknown };
  const result = body.data?.previewIndicatorFile;
  if (!result?.preview) throw new Error(`preview failed: ${JSON.stringify(body)}`);
  return result.preview as {
    fileHandle: string;
    headerRowDetected: boolean;
    columns: { suggestedProperty: string | null }[];
  };
}

/**
 * One import in a fresh service process (its peak RSS is the service's own), into a
 * community of its own (the quota is per community).
 */
async function importFile(bench: Bench, name: string, content: Buffer) {
  const { communityId, key } = await benchTenant(bench.services);
  const service = await spawnService(bench.databaseUrl);
  try {
    return await importWith(service.url, bench, key, communityId, name, content).then((run) => ({
      ...run,
      peakRssMb: service.peakRssMb(),
    }));
  } finally {
    await service.stop();
  }
}

async function importWith(
  serviceUrl: string,
  bench: Bench,
  key: string,
  communityId: string,
  name: string,
  content: Buffer,
) {
  const collection = await bench.services.prisma.collection.create({ data: { communityId, name: `bench ${name}` } });
  const collectionId = toGlobalId('Collection', collection.id);
  const started = performance.now();
  const preview = await upload(serviceUrl, key, collectionId, name, content);
  const previewMs = performance.now() - started;
  const data = await graphqlCall(
    serviceUrl,
    key,
    `mutation($input: ImportIndicatorsFromFileInput!) { importIndicatorsFromFile(input: $input) {
      ... on ImportSuccess { importJob { id } } ... on Error { message } } }`,
    {
      input: {
        collectionId,
        fileHandle: preview.fileHandle,
        mapping: preview.columns.map((c) => c.suggestedProperty),
        ignoreFirstLine: preview.headerRowDetected,
      },
    },
  );
  const jobGlobalId = data.importIndicatorsFromFile.importJob?.id as string;
  if (!jobGlobalId) throw new Error(JSON.stringify(data));
  const jobId = Buffer.from(jobGlobalId, 'base64').toString().split(':')[1];
  let job;
  for (;;) {
    job = await bench.services.prisma.importJob.findUniqueOrThrow({ where: { id: jobId } });
    if (job.status === 'SUCCEEDED' || job.status === 'FAILED') break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    job,
    totalMs: performance.now() - started,
    previewMs,
    mapping: preview.columns.map((c) => c.suggestedProperty),
  };
}

const bench = await startBench({ workers: false });
try {
  const rows = buildRows();
  const csv = toCsv(rows);
  const xlsx = toXlsx(rows);
  const table: [string, string, string][] = [];
  const report = (label: string, csvValue: string, xlsxValue: string) => table.push([label, csvValue, xlsxValue]);

  const csvRun = await importFile(bench, 'bench.csv', csv);
  const copyMs = await copyFloorMs(
    bench,
    rows.slice(1).map((row) => row[0]),
    csvRun.job.collectionId,
  );
  const xlsxRun = await importFile(bench, 'bench.xlsx', xlsx);

  const seconds = (ms: number) => (ms / 1000).toFixed(2);
  report('file size (MB)', (csv.length / 2 ** 20).toFixed(1), (xlsx.length / 2 ** 20).toFixed(1));
  report('suggested mapping', csvRun.mapping.join(' '), xlsxRun.mapping.join(' '));
  report('status', csvRun.job.status, xlsxRun.job.status);
  for (const run of [csvRun, xlsxRun]) {
    if (run.job.status !== 'SUCCEEDED') console.error(run.job.failureMessage);
  }
  report(
    'created / updated / unchanged / invalid',
    `${csvRun.job.created} / ${csvRun.job.updated} / ${csvRun.job.unchanged} / ${csvRun.job.invalid}`,
    `${xlsxRun.job.created} / ${xlsxRun.job.updated} / ${xlsxRun.job.unchanged} / ${xlsxRun.job.invalid}`,
  );
  report('preview answered in (s)', seconds(csvRun.previewMs), seconds(xlsxRun.previewMs));
  report('upload to job done (s)', seconds(csvRun.totalMs), seconds(xlsxRun.totalMs));
  report(
    'rows/s',
    String(Math.round(ROWS / (csvRun.totalMs / 1000))),
    String(Math.round(ROWS / (xlsxRun.totalMs / 1000))),
  );
  report('raw COPY of the same rows (s)', seconds(copyMs), '');
  report('import / COPY', (csvRun.totalMs / copyMs).toFixed(1), (xlsxRun.totalMs / copyMs).toFixed(1));
  report('peak RSS of the service process (MB)', String(csvRun.peakRssMb), String(xlsxRun.peakRssMb));

  console.log(`\nFile import bench: ${ROWS} rows, 5 columns`);
  console.log(`${''.padEnd(42)} ${'CSV'.padEnd(30)} XLSX`);
  for (const [label, a, b] of table) console.log(`${label.padEnd(42)} ${a.padEnd(30)} ${b}`);
  printBenchResult('file-import', {
    rows: ROWS,
    succeeded: csvRun.job.status === 'SUCCEEDED' && xlsxRun.job.status === 'SUCCEEDED',
    csvPreviewSeconds: csvRun.previewMs / 1000,
    xlsxPreviewSeconds: xlsxRun.previewMs / 1000,
    csvImportSeconds: csvRun.totalMs / 1000,
    xlsxImportSeconds: xlsxRun.totalMs / 1000,
    copySeconds: copyMs / 1000,
    csvImportVsCopy: csvRun.totalMs / copyMs,
    xlsxImportVsCopy: xlsxRun.totalMs / copyMs,
    csvPeakRssMb: csvRun.peakRssMb,
    xlsxPeakRssMb: xlsxRun.peakRssMb,
  });
} finally {
  await bench.close();
}
