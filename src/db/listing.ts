// How stores offer a table to GraphQL connections without knowing GraphQL: the rows
// matching a where-clause one page at a time, and how many match in all.
import type { Db } from './prisma.ts';

/** The fields a client asked for, as Pothos' prisma plugin passes them (its `query`). */
export type Selection<Select, Include> = { select?: Select; include?: Include };

/** A table's paged, counted listing. `Page` is Pothos' `query`: selection, cursor, take and skip. */
export interface Listing<Where, Page> {
  /** One page of the matching rows, in the listing's own order. */
  page(db: Db, where: Where, query: Page): Promise<unknown[]>;
  count(db: Db, where: Where): Promise<number>;
}
