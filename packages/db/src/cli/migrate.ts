import { createDb } from "../client.ts";

// The CLI is an entry point, so reading the environment here is allowed (the library never does).
const handle = await createDb({ url: process.env.DATABASE_URL, migrationUrl: process.env.DATABASE_MIGRATION_URL, dataDir: process.env.DATA_DIR ?? "./.data/pg" });
await handle.migrate();
await handle.close();
console.log(`migrated (${handle.driver})`);
