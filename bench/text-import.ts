// 100,000-line text import, end to end (mutation → job done), against a raw COPY of
// the same normalised rows into an identical table, in one run on one database.
//   npm run bench:text-import            (embedded PostgreSQL)
//   DATABASE_URL=... npm run bench:text-import
import {
  benchTenant,
  copyFloorMs,
  graphqlCall,
  observableGenerator,
  peakRssMb,
  printBenchResult,
  seededRandom,
  startBench,
  toGlobalId,
} from './lib.ts';

const LINES = Number(process.env.BENCH_LINES ?? 100_000);

function buildText(): string {
  const random = seededRandom();
  const next = observableGenerator(random);
  const lines: string[] = [];
  for (let i = 0; i < LINES; i += 1) {
    const r = random();
    if (r < 0.01) lines.push(`not an ioc ${i}`);
    else if (r < 0.06 && lines.length) lines.push(lines[Math.floor(random() * lines.length)]);
    else lines.push(next(i));
  }
  return lines.join('\n');
}

const bench = await startBench();
try {
  const { communityId, key } = await benchTenant(bench.services);
  const collection = await bench.services.prisma.collection.create({
    data: { communityId, name: 'bench text import' },
  });
  const text = buildText();
  const rssBefore = peakRssMb();

  const started = performance.now();
  const data = await graphqlCall(
    bench.yoga,
    key,
    `mutation($input: ImportIndicatorsFromTextInput!) { importIndicatorsFromText(input: $input) { ... on ImportSuccess { importJob { id } } ... on Error { message } } }`,
    { input: { collectionId: toGlobalId('Collection', collection.id), text } },
  );
  const jobGlobalId = data.importIndicatorsFromText.importJob.id as string;
  const jobId = Buffer.from(jobGlobalId, 'base64').toString().split(':')[1];
  let job;
  for (;;) {
    job = await bench.services.prisma.importJob.findUniqueOrThrow({ where: { id: jobId } });
    if (job.status === 'SUCCEEDED' || job.status === 'FAILED') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const importMs = performance.now() - started;
  const copyMs = await copyFloorMs(bench, text.split('\n'), collection.id);

  const table = [
    ['lines', LINES],
    ['status', job.status],
    ['created / updated / unchanged / invalid', `${job.created} / ${job.updated} / ${job.unchanged} / ${job.invalid}`],
    ['import, end to end (s)', (importMs / 1000).toFixed(2)],
    ['lines/s', Math.round(LINES / (importMs / 1000))],
    ['raw COPY of the same rows (s)', (copyMs / 1000).toFixed(2)],
    ['import / COPY', (importMs / copyMs).toFixed(1)],
    ['peak RSS of the process (MB)', `${peakRssMb()} (before the import: ${rssBefore})`],
  ];
  console.log('\nText import bench');
  for (const [label, value] of table) console.log(`${String(label).padEnd(42)} ${value}`);
  printBenchResult('text-import', {
    lines: LINES,
    succeeded: job.status === 'SUCCEEDED',
    importSeconds: importMs / 1000,
    linesPerSecond: LINES / (importMs / 1000),
    copySeconds: copyMs / 1000,
    importVsCopy: importMs / copyMs,
    peakRssMb: peakRssMb(),
  });
} finally {
  await bench.close();
}
