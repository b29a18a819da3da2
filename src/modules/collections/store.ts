// Every query of the collections table.
import type { Db } from '../../db/prisma.ts';
import type { Listing } from '../../db/listing.ts';
import type { Prisma } from '../../generated/prisma/client.ts';

/** What a GraphQL connection asks to load (Pothos' `query`): the selection and the page. */
type PageQuery = Omit<Prisma.CollectionFindManyArgs, 'where' | 'orderBy'>;

export const findCollection = (db: Db, where: Prisma.CollectionWhereInput) => db.collection.findFirst({ where });

/** Collections, newest first. */
export const collectionListing: Listing<Prisma.CollectionWhereInput, PageQuery> = {
  page: (db, where, query) => db.collection.findMany({ ...query, where, orderBy: { id: 'desc' } }),
  count: (db, where) => db.collection.count({ where }),
};

/** A new collection, with its detection rule when `data` asks for one. */
export const insertCollection = (db: Prisma.TransactionClient, data: Prisma.CollectionUncheckedCreateInput) =>
  db.collection.create({ data });

export const updateCollectionRow = (db: Db, id: string, data: Prisma.CollectionUncheckedUpdateInput) =>
  db.collection.update({ where: { id }, data });
