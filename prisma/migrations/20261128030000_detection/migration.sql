-- Detection: rules on collections, retrohunts, alerts, and the match ledger that makes
-- detection idempotent (an event counts once per rule and indicator however often scanned).

-- CreateEnum
CREATE TYPE "AlertStatus" AS ENUM ('OPEN', 'ACKNOWLEDGED', 'CLOSED');

-- CreateEnum
CREATE TYPE "RetrohuntTrigger" AS ENUM ('RULE_CREATED', 'RULE_ENABLED', 'INDICATORS_ADDED');

-- CreateTable
CREATE TABLE "detection_rules" (
    "id" UUID NOT NULL,
    "collection_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "detection_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "retrohunts" (
    "id" UUID NOT NULL,
    "rule_id" UUID NOT NULL,
    "trigger" "RetrohuntTrigger" NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED',
    "indicators_since" TIMESTAMPTZ(3),
    "range_start" TIMESTAMPTZ(3),
    "range_end" TIMESTAMPTZ(3),
    "scanned_until" TIMESTAMPTZ(3),
    "matches" INTEGER NOT NULL DEFAULT 0,
    "alerts_created" INTEGER NOT NULL DEFAULT 0,
    "failure_message" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "retrohunts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alerts" (
    "id" UUID NOT NULL,
    "rule_id" UUID NOT NULL,
    "indicator_id" UUID NOT NULL,
    "collection_id" UUID NOT NULL,
    "community_id" UUID NOT NULL,
    "field" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "excerpt" JSONB,
    "first_seen" TIMESTAMPTZ(3) NOT NULL,
    "last_seen" TIMESTAMPTZ(3) NOT NULL,
    "count" INTEGER NOT NULL,
    "status" "AlertStatus" NOT NULL DEFAULT 'OPEN',
    "is_open" BOOLEAN DEFAULT true,
    "retrohunt" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alerts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "detection_matches" (
    "rule_id" UUID NOT NULL,
    "indicator_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "detection_matches_pkey" PRIMARY KEY ("rule_id","indicator_id","event_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "detection_rules_collection_id_name_key" ON "detection_rules"("collection_id", "name");

-- CreateIndex
CREATE INDEX "retrohunts_rule_id_id_idx" ON "retrohunts"("rule_id", "id");

-- CreateIndex
CREATE INDEX "alerts_community_id_id_idx" ON "alerts"("community_id", "id");

-- CreateIndex
CREATE INDEX "alerts_collection_id_id_idx" ON "alerts"("collection_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "alerts_rule_id_indicator_id_community_id_is_open_key" ON "alerts"("rule_id", "indicator_id", "community_id", "is_open");

-- CreateIndex
CREATE INDEX "detection_matches_ts_idx" ON "detection_matches"("ts");

-- AddForeignKey
ALTER TABLE "detection_rules" ADD CONSTRAINT "detection_rules_collection_id_fkey" FOREIGN KEY ("collection_id") REFERENCES "collections"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "retrohunts" ADD CONSTRAINT "retrohunts_rule_id_fkey" FOREIGN KEY ("rule_id") REFERENCES "detection_rules"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_rule_id_fkey" FOREIGN KEY ("rule_id") REFERENCES "detection_rules"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_indicator_id_fkey" FOREIGN KEY ("indicator_id") REFERENCES "indicators"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_collection_id_fkey" FOREIGN KEY ("collection_id") REFERENCES "collections"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_community_id_fkey" FOREIGN KEY ("community_id") REFERENCES "communities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;



-- UUIDv7 made by PostgreSQL (PostgreSQL 18 has uuidv7(); 15 does not): alerts are created by
-- set-based statements, and their ids must sort by creation like every other id here.
CREATE FUNCTION ioc_uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;
