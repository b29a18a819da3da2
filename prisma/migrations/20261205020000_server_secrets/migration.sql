-- Keys shared by every process of a deployment (the connection-cursor signing key), made
-- on first start when not given in the environment.

-- CreateTable
CREATE TABLE "server_secrets" (
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "server_secrets_pkey" PRIMARY KEY ("name")
);
