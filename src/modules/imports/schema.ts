import { GraphQLError } from 'graphql';
import { builder } from '../../graphql/builder.ts';
import { addJobSubscription, JobStatusEnum } from '../../graphql/job-subscription.ts';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { ForbiddenError, NotFoundError, UnreadableFileError, ValidationError } from '../../errors.ts';
import { ImportKind } from '../../generated/prisma/enums.ts';
import { Collection } from '../collections/schema.ts';
import { IndicatorPropertiesInput } from '../indicators/schema.ts';
import { nodeAccess, visibleNode } from '../../graphql/visible-nodes.ts';
import { INDICATOR_PROPERTIES } from './column-mapping.ts';
import { importJobFilter, uploadedFileFilter } from '../communities/visibility.ts';
import { previewFile, requestFileImport, requestTextImport, type FilePreview } from './service.ts';
import { findImportJob, findUploadedFile } from './store.ts';

const ImportKindEnum = builder.enumType(ImportKind, { name: 'ImportKind' });

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
  findUnique: nodeAccess('ImportJob', 'importJob', (ctx) => importJobFilter(ctx.access)),
  fields: (t) => ({
    collection: t.field({ type: Collection, resolve: visibleNode('Collection', (job) => job.collectionId) }),
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
      query: (_, ctx) => ({ where: importJobFilter(ctx.access), orderBy: { id: 'desc' } }),
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
      resolve: (query, { importJob }, _, ctx) => findImportJob(ctx.prisma, query, importJob.id),
    }),
  }),
});

export const ImportResult = builder.errorUnion('ImportResult', {
  types: [ImportSuccess, ValidationError, NotFoundError, ForbiddenError, UnreadableFileError],
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

addJobSubscription(
  'importJobUpdated',
  ImportJob,
  'The job as it is now, then after every change; completes when the job has ended.',
);

// ---- file imports

const notAFile = () =>
  new GraphQLError('must be a file sent as a multipart request (the GraphQL multipart request spec)', {
    extensions: { code: 'BAD_USER_INPUT' },
  });

builder.scalarType('File', {
  description: 'A file sent with the GraphQL multipart request spec.',
  serialize: () => {
    throw new Error('File is an input-only scalar');
  },
  // Only the multipart parser puts a File in the variables; a string or object is the caller's mistake.
  parseValue: (value) => {
    const file = value as Partial<File> | null;
    if (typeof file?.arrayBuffer === 'function' && typeof file.name === 'string') return file as File;
    throw notAFile();
  },
  parseLiteral: () => {
    throw notAFile();
  },
});

const IndicatorPropertyEnum = builder.enumType('IndicatorProperty', {
  description: 'What a column of a file holds.',
  values: INDICATOR_PROPERTIES,
});

const FileFormatEnum = builder.enumType('FileFormat', { values: ['CSV', 'XLSX', 'XLS'] as const });

export const UploadedFile = builder.prismaNode('ImportSource', {
  variant: 'UploadedFile',
  id: { field: 'id' },
  nullable: true,
  description: 'A file uploaded for import; kept for a while so it can be imported again with another mapping.',
  // Only the fields asked for: never the file's content.
  select: { id: true },
  // Seen, until it expires, by those who may manage its collection's community (who may import it).
  findUnique: nodeAccess('UploadedFile', 'importSource', (ctx) => uploadedFileFilter(ctx.access)),
  fields: (t) => ({
    fileName: t.exposeString('filename', { nullable: true }),
    size: t.exposeInt('size', { description: 'Bytes.' }),
    uploadedAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

const FileColumn = builder.objectRef<FilePreview['columns'][number]>('FileColumn').implement({
  fields: (t) => ({
    index: t.exposeInt('index', { description: '0-based.' }),
    header: t.exposeString('header', { nullable: true }),
    samples: t.exposeStringList('samples', { description: 'Up to 5 non-empty values from the first rows.' }),
    suggestedProperty: t.field({
      type: IndicatorPropertyEnum,
      nullable: true,
      description: 'null: ignore the column.',
      resolve: (column) => column.suggestedProperty,
    }),
  }),
});

const FilePreviewRef = builder.objectRef<FilePreview>('FilePreview').implement({
  description: 'The first rows of an uploaded file and a suggested mapping of its columns.',
  fields: (t) => ({
    fileHandle: t.id({
      description: 'Pass to importIndicatorsFromFile (or to previewIndicatorFile to look at another sheet).',
      resolve: (preview) => encodeGlobalID('UploadedFile', preview.fileHandle),
    }),
    file: t.prismaField({
      type: UploadedFile,
      resolve: (query, preview, _, ctx) => findUploadedFile(ctx.prisma, query, preview.fileHandle),
    }),
    format: t.field({ type: FileFormatEnum, resolve: (preview) => preview.format }),
    sheets: t.exposeStringList('sheets', { description: 'Sheet names of a workbook; empty for CSV.' }),
    sheet: t.exposeString('sheet', { nullable: true, description: 'The sheet shown.' }),
    headerRowDetected: t.exposeBoolean('headerRowDetected', {
      description: 'The first row holds column names (pass it as ignoreFirstLine).',
    }),
    header: t.exposeStringList('header', {
      nullable: true,
      description: 'Column names: the first row, or a commented header line above the data.',
    }),
    rows: t.field({
      type: t.listRef(t.listRef('String')),
      description: 'The first 10 data rows (the header row left out).',
      resolve: (preview) => preview.rows,
    }),
    columns: t.field({ type: [FileColumn], resolve: (preview) => preview.columns }),
    unknownThreats: t.exposeStringList('unknownThreats', {
      description:
        'Threat names in the sampled rows that the catalogue does not know; rows naming them would be rejected.',
    }),
  }),
});

const fileErrors = [ValidationError, NotFoundError, ForbiddenError, UnreadableFileError];

const PreviewIndicatorFileInput = builder.inputType('PreviewIndicatorFileInput', {
  fields: (t) => ({
    collectionId: t.globalID({ for: Collection, required: true }),
    file: t.field({ type: 'File', description: 'The file to upload (CSV, XLS or XLSX); or give fileHandle.' }),
    fileHandle: t.globalID({
      for: UploadedFile,
      description: 'A file uploaded before, e.g. to look at another sheet.',
    }),
    sheet: t.string({ description: 'Workbook sheet to show; default: the first with data.' }),
  }),
});

builder.mutationField('previewIndicatorFile', (t) =>
  t.field({
    type: FilePreviewRef,
    authScopes: { permission: 'MANAGE_IOC_COLLECTIONS' },
    description: 'Step 1 of a file import: upload, look at the first rows and the suggested mapping.',
    args: { input: t.arg({ type: PreviewIndicatorFileInput, required: true }) },
    errors: { types: fileErrors, dataField: { name: 'preview' } },
    resolve: async (_, { input }, ctx) =>
      previewFile(ctx, {
        collectionId: input.collectionId.id,
        file: input.file
          ? { name: (input.file as File).name, content: Buffer.from(await (input.file as File).arrayBuffer()) }
          : null,
        fileHandle: input.fileHandle?.id,
        sheet: input.sheet,
      }),
  }),
);

const ImportIndicatorsFromFileInput = builder.inputType('ImportIndicatorsFromFileInput', {
  fields: (t) => ({
    collectionId: t.globalID({ for: Collection, required: true }),
    fileHandle: t.globalID({ for: UploadedFile, required: true }),
    mapping: t.field({
      type: [IndicatorPropertyEnum],
      required: { list: true, items: false },
      description:
        'One entry per column, in order: the property it holds, or null to ignore it. Exactly one OBSERVABLE.',
    }),
    ignoreFirstLine: t.boolean({ required: true, description: 'The first row is a header.' }),
    sheet: t.string({ description: 'Workbook sheet to import; default: the first with data.' }),
    defaults: t.field({
      type: IndicatorPropertiesInput,
      description: 'Properties for what the mapped columns do not give (unmapped, or an empty cell).',
    }),
  }),
});

builder.mutationField('importIndicatorsFromFile', (t) =>
  t.field({
    type: ImportResult,
    authScopes: { permission: 'MANAGE_IOC_COLLECTIONS' },
    description: 'Step 2 of a file import: starts the job with the confirmed mapping; follow it with importJobUpdated.',
    args: { input: t.arg({ type: ImportIndicatorsFromFileInput, required: true }) },
    resolve: async (_, { input }, ctx) => ({
      importJob: await requestFileImport(ctx, {
        collectionId: input.collectionId.id,
        fileHandle: input.fileHandle.id,
        mapping: input.mapping.map((p) => p ?? null),
        ignoreFirstLine: input.ignoreFirstLine,
        sheet: input.sheet,
        defaults: input.defaults && {
          ...input.defaults,
          threatIds: input.defaults.threatIds?.map((threat) => threat.id),
        },
      }),
    }),
  }),
);
