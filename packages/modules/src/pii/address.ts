import { findPrefixTypeStreets, findSpanishStreets, findVietnameseAddresses, NEIGHBOURHOOD_BEFORE } from "./address-intl.ts";
import { HOUSE_NUMBER, streetAt, tokenize } from "./address-street.ts";
import { extendTail, findZipTailStreets, UK_POSTCODE, US_STATE_ZIP } from "./address-tail.ts";
import { hasDigit } from "./text-shape.ts";
import type { PiiSpan } from "./types.ts";

// Addresses are recognised in parts: English street lines (address-street.ts), the other
// languages' street forms (address-intl.ts), and the city/state/ZIP tail and postcodes
// (address-tail.ts). Here they are put together, landmarks set aside and each line run on to its tail.

const SANS_NUMERO = /s\/n/iu;
const PO_BOX = /(?<![\p{L}])p\.?\s?o\.?\s+box\s+\d{1,6}(?![\p{N}])/giu;

// Public landmarks used in homework ("1600 pennsylvania avenue", "221b baker street"): not
// personal unless the student says it is their address.
const LANDMARKS =
  /^(?:1600\s+pennsylvania|221b\s+baker|10\s+downing|350\s+fifth|1\s+infinite\s+loop|1600\s+amphitheatre|4059\s+mt\.?\s+lee|11\s+wall\s+street|20\s+w\.?\s+34th)/i;
const OWN_ADDRESS_CUE =
  /(?<![\p{L}])(?:my address|our address|i live|we live|i'm at|im at|live at|lives at|come over|pick me up|send it to|deliver|mi direcci[oó]n|vivo|vivimos|vive|mi casa|nhà t|nhà tôi|nhà mình|nhà em|địa chỉ)(?![\p{L}])/iu;

/** Street addresses (house number + name + street type, with unit, city and zip) and postcodes, in English, Spanish and Vietnamese. */
export function findAddresses(text: string): PiiSpan[] {
  // Every form has an ASCII digit (a house number, a box, a ZIP or postcode) but the Spanish
  // street without a number ("calle x s/n").
  if (!hasDigit(text)) return SANS_NUMERO.test(text) ? placed(text, findSpanishStreets(text)) : [];
  const cores: PiiSpan[] = [];
  const tokens = tokenize(text);
  tokens.forEach((token, i) => {
    if (!HOUSE_NUMBER.test(token.text)) return;
    const street = streetAt(text, tokens, i);
    if (street) cores.push(street);
  });
  cores.push(...findPrefixTypeStreets(text));
  for (const m of text.matchAll(PO_BOX)) cores.push({ kind: "address", start: m.index, end: m.index + m[0].length });
  cores.push(...findSpanishStreets(text));
  cores.push(...findVietnameseAddresses(text));
  cores.push(...findZipTailStreets(text, tokens, cores));
  const spans = placed(text, cores);
  for (const re of [UK_POSTCODE, US_STATE_ZIP]) {
    for (const m of text.matchAll(re)) {
      spans.push({ kind: "address", start: m.index, end: m.index + m[0].length });
    }
  }
  return spans;
}

/** Street lines with landmarks set aside, each run back over a neighbourhood and on to its tail. */
function placed(text: string, cores: readonly PiiSpan[]): PiiSpan[] {
  const spans: PiiSpan[] = [];
  for (const core of cores) {
    const written = text.slice(core.start, core.end);
    if (LANDMARKS.test(written) && !OWN_ADDRESS_CUE.test(text.slice(Math.max(0, core.start - 40), core.start))) continue;
    const before = NEIGHBOURHOOD_BEFORE.exec(text.slice(Math.max(0, core.start - 45), core.start));
    const start = before ? core.start - before[0].length : core.start;
    spans.push({ kind: "address", start, end: extendTail(text, core.end) });
  }
  return spans;
}
