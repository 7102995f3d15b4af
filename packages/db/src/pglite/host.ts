/**
 * Child-process entry point: owns one guarded PGlite and answers the API process's calls. A
 * statement that spins inside the wasm backend blocks only this process; the API keeps serving and
 * kills this process when its watchdog fires (see host-client.ts). A process, not a Worker thread:
 * JavaScriptCore does not interrupt a running wasm loop when a Worker is terminated, so a stuck
 * thread would keep burning a core and its memory; SIGKILL always works.
 */
import { AppError } from "@raptscallions/core";
import { type GuardedPGlite, openGuardedPglite } from "./guarded.ts";
import type { HostCall, HostRequest, HostResponse, SerializedError } from "./protocol.ts";

let pg: GuardedPGlite | undefined;
let abortReported = false;

function send(message: HostResponse): void {
  process.send?.(message);
}

function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { message: String(err), fields: {} };
  const fields: Record<string, unknown> = {};
  // PGlite's DatabaseError carries the SQLSTATE and friends as own properties.
  for (const [k, v] of Object.entries(err)) if (v === null || ["string", "number", "boolean"].includes(typeof v)) fields[k] = v;
  return { message: err.message, fields, ...(err instanceof AppError ? { appCode: err.code } : {}) };
}

async function run(call: HostCall): Promise<unknown> {
  if (!pg) throw new Error("PGlite host is not initialised");
  switch (call.op) {
    case "query": {
      // The caller's parsers are functions and cannot cross threads: its types come back as raw
      // text and the client applies the parsers on its side.
      const parsers = Object.fromEntries(call.rawTypes.map((oid) => [oid, (v: string) => v]));
      const { rows, fields, affectedRows } = await pg.query(call.sql, call.params, { rowMode: call.rowMode, parsers });
      return { rows, fields: fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })), affectedRows };
    }
    case "exec": {
      const results = await pg.exec(call.sql);
      return results.map(({ rows, fields, affectedRows }) => ({ rows, fields, affectedRows }));
    }
    case "dump": {
      const blob = (await pg.dumpDataDir("none")) as Blob;
      return await blob.arrayBuffer();
    }
    case "close": {
      await pg.close();
      return null;
    }
  }
}

process.on("message", (request: HostRequest) => {
  if (request.type === "init") {
    openGuardedPglite({
      dataDir: request.dataDir,
      loadDataDir: request.loadDataDir ? new Blob([request.loadDataDir]) : undefined,
    }).then(
      (opened) => {
        pg = opened;
        send({ type: "ready" });
      },
      (err: unknown) => send({ type: "init-failed", error: serializeError(err) }),
    );
    return;
  }
  const { id, call } = request;
  run(call).then(
    (value) => send({ type: "result", id, value }),
    (err: unknown) => {
      send({ type: "error", id, error: serializeError(err) });
      if (pg?.abortedBy && !abortReported) {
        abortReported = true;
        send({ type: "aborted", reason: `${pg.abortedBy.name}: ${pg.abortedBy.message}` });
      }
    },
  );
});

// The API process went away (crashed, or killed without closing us): nothing is left to serve.
process.on("disconnect", () => process.exit(0));
