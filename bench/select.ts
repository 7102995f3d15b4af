/**
 * Which benches `bun run bench -- <name>…` runs: an argument that is a bench's whole name (`turn`
 * for `turn.bench.ts`) picks that bench alone; any other argument picks every bench whose file name
 * contains it (`console` also picks `console-paint.bench.ts` only when no `console.bench.ts` exists).
 */
export function selectBenches(files: readonly string[], filters: readonly string[]): string[] {
  const benches = files.filter((f) => f.endsWith(".bench.ts"));
  if (filters.length === 0) return [...benches].sort();
  const picked = new Set<string>();
  for (const filter of filters) {
    const exact = `${filter}.bench.ts`;
    if (benches.includes(exact)) picked.add(exact);
    else for (const f of benches) if (f.includes(filter)) picked.add(f);
  }
  return [...picked].sort();
}
