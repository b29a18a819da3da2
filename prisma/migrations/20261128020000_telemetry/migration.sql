-- Telemetry: events, their observables and daily sightings, and telemetry reports.
-- The first three are partitioned (Prisma cannot say so; the PARTITION BY clauses are
-- hand-written): events and observables by day, sightings by month. Partitions are made
-- and dropped at run time, so expired data goes a whole partition at a time.

ALTER TYPE "NotificationKind" ADD VALUE 'TELEMETRY_REPORT_READY';
ALTER TYPE "NotificationKind" ADD VALUE 'TELEMETRY_REPORT_FAILED';

-- CreateTable
CREATE TABLE "events" (
    "id" UUID NOT NULL,
    "community_id" UUID NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "document" JSONB NOT NULL,

    CONSTRAINT "events_pkey" PRIMARY KEY ("ts","id")
) PARTITION BY RANGE ("ts");

-- CreateTable
CREATE TABLE "event_observables" (
    "event_id" UUID NOT NULL,
    "community_id" UUID NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "field" TEXT NOT NULL,
    "type" "ObservableType" NOT NULL,
    "value" TEXT NOT NULL
) PARTITION BY RANGE ("ts");

-- CreateTable
CREATE TABLE "sightings" (
    "community_id" UUID NOT NULL,
    "type" "ObservableType" NOT NULL,
    "value" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "count" BIGINT NOT NULL,
    "first_seen" TIMESTAMPTZ(3) NOT NULL,
    "last_seen" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sightings_pkey" PRIMARY KEY ("community_id","value","day")
) PARTITION BY RANGE ("day");

-- CreateTable
CREATE TABLE "telemetry_reports" (
    "id" UUID NOT NULL,
    "collection_id" UUID NOT NULL,
    "requested_by_id" UUID NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED',
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "period_end" TIMESTAMPTZ(3) NOT NULL,
    "indicators_checked" INTEGER NOT NULL DEFAULT 0,
    "indicators_seen" INTEGER NOT NULL DEFAULT 0,
    "failure_message" TEXT,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "telemetry_reports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "telemetry_report_communities" (
    "report_id" UUID NOT NULL,
    "community_id" UUID NOT NULL,

    CONSTRAINT "telemetry_report_communities_pkey" PRIMARY KEY ("report_id","community_id")
);

-- CreateTable
CREATE TABLE "telemetry_report_entries" (
    "report_id" UUID NOT NULL,
    "rank" INTEGER NOT NULL,
    "indicator_id" UUID NOT NULL,
    "sightings" INTEGER NOT NULL,
    "first_seen" TIMESTAMPTZ(3) NOT NULL,
    "last_seen" TIMESTAMPTZ(3) NOT NULL,
    "heatmap_days" DATE[],
    "heatmap_counts" INTEGER[],

    CONSTRAINT "telemetry_report_entries_pkey" PRIMARY KEY ("report_id","rank")
);

-- CreateIndex
CREATE INDEX "telemetry_reports_collection_id_id_idx" ON "telemetry_reports"("collection_id", "id");

-- CreateIndex
CREATE INDEX "telemetry_report_communities_community_id_idx" ON "telemetry_report_communities"("community_id");

-- CreateIndex
CREATE UNIQUE INDEX "telemetry_report_entries_report_id_indicator_id_key" ON "telemetry_report_entries"("report_id", "indicator_id");

-- AddForeignKey
ALTER TABLE "telemetry_reports" ADD CONSTRAINT "telemetry_reports_collection_id_fkey" FOREIGN KEY ("collection_id") REFERENCES "collections"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "telemetry_reports" ADD CONSTRAINT "telemetry_reports_requested_by_id_fkey" FOREIGN KEY ("requested_by_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "telemetry_report_communities" ADD CONSTRAINT "telemetry_report_communities_report_id_fkey" FOREIGN KEY ("report_id") REFERENCES "telemetry_reports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "telemetry_report_communities" ADD CONSTRAINT "telemetry_report_communities_community_id_fkey" FOREIGN KEY ("community_id") REFERENCES "communities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "telemetry_report_entries" ADD CONSTRAINT "telemetry_report_entries_report_id_fkey" FOREIGN KEY ("report_id") REFERENCES "telemetry_reports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "telemetry_report_entries" ADD CONSTRAINT "telemetry_report_entries_indicator_id_fkey" FOREIGN KEY ("indicator_id") REFERENCES "indicators"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


