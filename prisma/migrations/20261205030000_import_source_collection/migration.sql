-- An uploaded file belongs to a collection: the access rule of UploadedFile (managers of
-- the collection's community) is a join, as for every other node.

-- CreateIndex
CREATE INDEX "import_sources_collection_id_idx" ON "import_sources"("collection_id");

-- AddForeignKey
ALTER TABLE "import_sources" ADD CONSTRAINT "import_sources_collection_id_fkey" FOREIGN KEY ("collection_id") REFERENCES "collections"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
