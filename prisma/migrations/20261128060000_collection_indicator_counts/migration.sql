-- Counts of each collection's active and revoked indicators, kept by statement-level
-- triggers on `indicators` (one UPDATE per statement and collection: a COPY of 500,000 rows
-- costs one), so that an unfiltered listing's totalCount reads a row instead of
-- counting the collection.

-- AlterTable
ALTER TABLE "collections" ADD COLUMN     "active_indicators" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "revoked_indicators" INTEGER NOT NULL DEFAULT 0;

UPDATE "collections" c
   SET "active_indicators" = counts.active, "revoked_indicators" = counts.revoked
  FROM (SELECT collection_id,
               count(*) FILTER (WHERE revoked_at IS NULL) AS active,
               count(*) FILTER (WHERE revoked_at IS NOT NULL) AS revoked
          FROM indicators GROUP BY collection_id) counts
 WHERE c.id = counts.collection_id;

-- Rows added (INSERT, COPY) or removed (DELETE), seen by both triggers as `changed`.
CREATE FUNCTION indicators_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sign int := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
  UPDATE collections c
     SET active_indicators = c.active_indicators + sign * d.active,
         revoked_indicators = c.revoked_indicators + sign * d.revoked
    FROM (SELECT collection_id,
                 count(*) FILTER (WHERE revoked_at IS NULL) AS active,
                 count(*) FILTER (WHERE revoked_at IS NOT NULL) AS revoked
            FROM changed GROUP BY collection_id) d
   WHERE c.id = d.collection_id;
  RETURN NULL;
END $$;

-- An indicator never moves between collections; only a change of revocation moves a count.
CREATE FUNCTION indicators_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE collections c
     SET active_indicators = c.active_indicators - d.revoked, revoked_indicators = c.revoked_indicators + d.revoked
    FROM (SELECT n.collection_id, sum(CASE WHEN o.revoked_at IS NULL THEN 1 ELSE -1 END) AS revoked
            FROM before_update o JOIN after_update n USING (id)
           WHERE (o.revoked_at IS NULL) <> (n.revoked_at IS NULL)
           GROUP BY n.collection_id) d
   WHERE c.id = d.collection_id;
  RETURN NULL;
END $$;

CREATE TRIGGER indicators_count_insert AFTER INSERT ON indicators
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION indicators_count_rows();
CREATE TRIGGER indicators_count_delete AFTER DELETE ON indicators
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION indicators_count_rows();
CREATE TRIGGER indicators_count_update AFTER UPDATE ON indicators
  REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
  FOR EACH STATEMENT EXECUTE FUNCTION indicators_count_updated();
