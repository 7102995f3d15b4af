import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * One registry per app (not prom-client's global), so several apps in one test process keep
 * separate counts. Later capabilities register their own collectors on `registry`.
 */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status">;
  httpDuration: Histogram<"method" | "route" | "status">;
  wsConnections: Gauge;
  wsRooms: Gauge;
  gatewayCalls: Counter<"model" | "outcome">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    httpRequests: new Counter({
      name: "http_requests_total",
      help: "HTTP requests by route pattern and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request latency by route pattern",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    wsConnections: new Gauge({ name: "ws_connections", help: "Open WebSocket connections", registers: [registry] }),
    wsRooms: new Gauge({ name: "ws_rooms", help: "Rooms with local subscribers", registers: [registry] }),
    gatewayCalls: new Counter({
      name: "gateway_calls_total",
      help: "AI gateway calls by model and outcome",
      labelNames: ["model", "outcome"],
      registers: [registry],
    }),
  };
}
