-- What a preview learnt of an uploaded file (the sheet and column count of each table
-- shown): the import request checks its mapping against it instead of reading the file again.

-- AlterTable
ALTER TABLE "import_sources" ADD COLUMN     "previewed_tables" JSONB NOT NULL DEFAULT '[]';
