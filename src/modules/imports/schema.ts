import { Repeater } from 'graphql-yoga';
import { builder } from '../../graphql/builder.ts';
import type { Context } from '../../graphql/context.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../../graphql/errors.ts';
import type { ImportJob as ImportJobRow } from '../../generated/prisma/client.ts';
import { ImportKind, JobStatus } from '../../generated/prisma/enums.ts';
import { Collection } from '../collections/schema.ts';
import { IndicatorPropertiesInput } from '../indicators/schema.ts';
import { requestTextImport } from './service.ts';

export const JobStatusEnum = builder.enumType(JobStatus, { name: 'JobStatus' });
const ImportKindEnum = builder.enumType(ImportKind, { name: 'ImportKind' });

/** Import jobs are seen from the collection's own community, not from sub-communities it is shared with. */
const importJobFilter = (ctx: Context) => ({
  collection: { communityId: { in: ctx.access.communitiesWith('VIEW_IOC_COLLECTIONS') } },
});

builder.prismaObject('ImportRowError', {
  description: 'A rejected row: its line number in the source, the value as given, and why.',
  fields: (t) => ({
    line: t.exposeInt('line'),
    value: t.exposeString('value'),
    code: t.exposeString('code', {
      description: 'Stable, e.g. UNRECOGNISED, INVALID_HASH, QUOTA_EXCEEDED, INDICATOR_REVOKED.',
    }),
    message: t.exposeString('message'),
  }),
});

export const ImportJob = builder.prismaNode('ImportJob', {
  id: { field: 'id' },
  // node(id) and nodes(ids) answer null for a missing or hidden id, never an error.
  nullable: true,
  description: 'A background import. Progress is processed/total; counts add up to processed.',
  findUnique: (id, ctx) => ({ id, ...importJobFilter(ctx) }),
  fields: (t) => ({
    collection: t.relation('collection'),
    kind: t.field({ type: ImportKindEnum, resolve: (job) => job.kind }),
    status: t.field({ type: JobStatusEnum, resolve: (job) => job.status }),
    total: t.exposeInt('total', {
      nullable: true,
      description: 'Rows to import, known once the job has read its source.',
    }),
    processed: t.exposeInt('processed'),
    created: t.exposeInt('created'),
    updated: t.exposeInt('updated'),
    unchanged: t.exposeInt('unchanged'),
    invalid: t.exposeInt('invalid', { description: 'Rows rejected; each is listed in `errors`.' }),
    errors: t.relatedConnection(
      'errors',
      { cursor: 'jobId_line', query: { orderBy: { line: 'asc' } }, totalCount: true },
      { name: 'ImportRowErrorConnection' },
      { name: 'ImportRowErrorEdge' },
    ),
    failureMessage: t.exposeString('failureMessage', { nullable: true }),
    requestedBy: t.relation('requestedBy'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.prismaObjectField(Collection, 'imports', (t) =>
  t.relatedConnection(
    'imports',
    {
      cursor: 'id',
      description: 'Newest first.',
      query: (_, ctx) => ({ where: importJobFilter(ctx), orderBy: { id: 'desc' } }),
      totalCount: true,
    },
    { name: 'ImportJobConnection' },
    { name: 'ImportJobEdge' },
  ),
);

const ImportSuccess = builder.objectRef<{ importJob: { id: string } }>('ImportSuccess').implement({
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'importJob' in value,
  fields: (t) => ({
    importJob: t.prismaField({
      type: 'ImportJob',
      resolve: (query, { importJob }, _, ctx) =>
        ctx.prisma.importJob.findUniqueOrThrow({ ...query, where: { id: importJob.id } }),
    }),
  }),
});

export const ImportResult = builder.errorUnion('ImportResult', {
  types: [ImportSuccess, ValidationError, NotFoundError, ForbiddenError],
});

const ImportIndicatorsFromTextInput = builder.inputType('ImportIndicatorsFromTextInput', {
  fields: (t) => ({
    collectionId: t.globalID({ for: Collection, required: true }),
    text: t.string({ required: true, description: 'One observable per line; blank and # comment lines are skipped.' }),
    properties: t.field({ type: IndicatorPropertiesInput }),
  }),
});

builder.mutationField('importIndicatorsFromText', (t) =>
  t.field({
    authScopes: { permission: 'MANAGE_IOC_COLLECTIONS' },
    type: ImportResult,
    description: 'Starts a background import and returns its job at once; follow it with importJobUpdated.',
    args: { input: t.arg({ type: ImportIndicatorsFromTextInput, required: true }) },
    resolve: async (_, { input }, ctx) => ({
      importJob: await requestTextImport(ctx, {
        collectionId: input.collectionId.id,
        text: input.text,
        properties: input.properties && {
          ...input.properties,
          threatIds: input.properties.threatIds?.map((threat) => threat.id),
        },
      }),
    }),
  }),
);

const TERMINAL: JobStatus[] = ['SUCCEEDED', 'FAILED'];

builder.subscriptionField('importJobUpdated', (t) =>
  t.field({
    type: ImportJob,
    description: 'The job as it is now, then after every change; completes when the job has ended.',
    args: { id: t.arg.globalID({ for: ImportJob, required: true }) },
    subscribe: (_, { id }, ctx) => followImportJob(ctx, id.id),
    // The row that decided whether the job has ended is the one delivered: a second read
    // here could already see the end, which would then be sent twice. Relations the
    // client selects are loaded from it.
    resolve: (job: ImportJobRow) => job,
  }),
);

/**
 * The job now, then after each change, until it ends. A Repeater (not an async
 * generator) so that a client leaving stops the listener at once instead of at the
 * job's next event.
 */
function followImportJob(ctx: Context, id: string): Repeater<ImportJobRow> {
  return new Repeater(async (push, stop) => {
    // Listen before reading, so no change between the two is missed.
    const events = ctx.pubsub.subscribe('importJobUpdated', id)[Symbol.asyncIterator]();
    const stopped = stop.then(() => ({ done: true as const, value: undefined }));
    let next = events.next();
    try {
      const read = () => ctx.prisma.importJob.findFirst({ where: { id, ...importJobFilter(ctx) } });
      let job = await read();
      if (!job) throw new NotFoundError('ImportJob');
      await push(job);
      while (!TERMINAL.includes(job.status)) {
        if ((await Promise.race([next, stopped])).done) return;
        next = events.next();
        job = (await read())!;
        await push(job);
      }
    } finally {
      stop();
      await events.return?.();
    }
  });
}
