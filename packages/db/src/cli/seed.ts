import { createDb } from "../client.ts";
import { seed } from "../seed.ts";

const handle = await createDb({ url: process.env.DATABASE_URL, migrationUrl: process.env.DATABASE_MIGRATION_URL, dataDir: process.env.DATA_DIR ?? "./.data/pg" });
await handle.migrate();
const result = await seed(handle.db);
await handle.close();
console.log(JSON.stringify({ seeded: result, driver: handle.driver }));
