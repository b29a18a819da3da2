-- Open subscriptions per API key over every API process, for SUBSCRIPTIONS_MAX_PER_KEY. A lease
-- counts while its process keeps beating; a dead process is deleted with its leases.

-- CreateTable
CREATE TABLE "subscription_processes" (
    "id" UUID NOT NULL,
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "subscription_processes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subscription_leases" (
    "id" UUID NOT NULL,
    "process_id" UUID NOT NULL,
    "api_key_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "subscription_leases_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "subscription_leases_process_id_idx" ON "subscription_leases"("process_id");

-- CreateIndex
CREATE INDEX "subscription_leases_api_key_id_idx" ON "subscription_leases"("api_key_id");

-- AddForeignKey
ALTER TABLE "subscription_leases" ADD CONSTRAINT "subscription_leases_process_id_fkey" FOREIGN KEY ("process_id") REFERENCES "subscription_processes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription_leases" ADD CONSTRAINT "subscription_leases_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;


