/**
 * The PII filter's cost by detector on the rotating corpus: each detector run alone over every
 * message once (new text each time), wall µs a message summed per detector.
 */
import { generatedCorpus, loadCorpus } from "../../packages/modules/scripts/corpus.ts";
import { findHandles, findStudentIds } from "../../packages/modules/src/pii/accounts.ts";
import { findAddresses } from "../../packages/modules/src/pii/address.ts";
import { findEmails, findPhones } from "../../packages/modules/src/pii/contact.ts";
import { findDatesOfBirth } from "../../packages/modules/src/pii/dob.ts";
import { guessLanguage } from "../../packages/modules/src/pii/lexicon.ts";
import { findStudentName } from "../../packages/modules/src/pii/name.ts";
import { findOtherPeople } from "../../packages/modules/src/pii/people.ts";
import { redactPii } from "../../packages/modules/src/pii/redact.ts";

const base = loadCorpus();
const corpus = [...base, ...generatedCorpus(base, Number(process.env.N ?? 6000) - base.length)];
const langs = corpus.map((c) => guessLanguage(c.text));
const policy = { currentYear: 2026, childAgeMin: 4, childAgeMax: 19, maxAgeYears: 100 };
const student = { id: "x", givenName: "Maya", familyName: "Okafor", displayName: "Maya Okafor" };
const parts: Array<[string, (t: string, i: number) => unknown]> = [
  ["guessLanguage", (t) => guessLanguage(t)],
  ["emails", (t) => findEmails(t)],
  ["phones", (t) => findPhones(t)],
  ["addresses", (t) => findAddresses(t)],
  ["studentIds", (t) => findStudentIds(t)],
  ["handles", (t, i) => findHandles(t, langs[i] ?? "en")],
  ["dob", (t) => findDatesOfBirth(t, policy)],
  ["ownName", (t, i) => findStudentName(t, corpus[i]?.student ?? student, langs[i] ?? "en")],
  ["people", (t, i) => findOtherPeople(t, langs[i] ?? "en")],
  ["redactPii (all)", (t, i) => redactPii(t, { student: corpus[i]?.student ?? student, now: new Date("2026-03-10T10:00:00Z") })],
];
let sink = 0;
for (let round = 0; round < 3; round++) {
  const rows: string[] = [];
  for (const [name, fn] of parts) {
    const t0 = performance.now();
    for (let i = 0; i < corpus.length; i++) sink += fn(corpus[i]?.text ?? "", i) ? 1 : 0;
    rows.push(`${(((performance.now() - t0) * 1000) / corpus.length).toFixed(1).padStart(8)}  ${name}`);
  }
  if (round > 0) console.log(`round ${round}\n${rows.join("\n")}`);
}
if (sink < 0) console.log(sink);
