-- AlterTable
ALTER TABLE "import_jobs" ADD COLUMN     "header" TEXT[];

-- AlterTable
ALTER TABLE "import_row_errors" ADD COLUMN     "cells" TEXT[];


-- Sources are stored gzip-compressed by the service: PostgreSQL's own compression would
-- only cost time.
ALTER TABLE "import_sources" ALTER COLUMN "content" SET STORAGE EXTERNAL;
