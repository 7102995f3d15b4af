import { createDevModelApp } from "@raptscallions/gateway";
const app = createDevModelApp({ tokensPerSecond: 0 });
for (const m of ["dev-tutor@50.19207356722tps", "dev-tutor@50tps", "dev-tutor@1000000.123tps"]) {
  const r = await app.request("/chat/completions", { method: "POST", body: JSON.stringify({ model: m, messages: [{ role: "user", content: "hi" }], stream: false }) });
  console.log(m, r.status, (await r.text()).slice(0, 100));
}
