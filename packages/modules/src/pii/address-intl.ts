import type { PiiSpan } from "./types.ts";

// Streets whose type comes before the name (French, Spanish, Italian), the Spanish forms that put
// the number last, and Vietnamese addresses, which end in a ward, district or city.

// Street types written before the name: French/Spanish/Italian ("301 rue st-denis") after a
// number, and the Spanish forms that put the number last ("calle 5 de febrero 88", "av. juárez 455").
const PREFIX_TYPE =
  "(?:rue|via|avenida|avda\\.?|av\\.?|calle|c/|boulevard|blvd\\.?|bulevar|calzada|carrera|cra\\.?|paseo|camino|privada|cerrada|diagonal|transversal|callej[oó]n|andador|prolongaci[oó]n|chemin)";
const NUMBER_PREFIX_STREET = new RegExp(String.raw`(?<![\p{L}\p{N}])\d{1,5}[a-z]?\s+${PREFIX_TYPE}\s+[\p{L}][\p{L}'’.-]*(?:\s+[\p{L}][\p{L}'’.-]*){0,2}`, "giu");
const SPANISH_STREET = new RegExp(
  String.raw`(?<![\p{L}\p{N}])${PREFIX_TYPE}\s+(?:[\p{L}\p{N}][\p{L}\p{N}'’.]*\s+){1,4}?(?:#\s?\d{1,5}(?:-\d{1,4})?|n[oº°]\.?\s?\d{1,5}|\d{1,5}[a-z]?(?:-\d{1,4})?|s/n)(?![\p{L}\p{N}])`,
  "giu",
);
const SPANISH_CUE = /(?<![\p{L}])(?:vivo|vive|viven|vivimos|direcci[oó]n|domicilio|casa|queda|mandar|manden|enviar|env[ií]en|col\.|colonia|c\.?p\.?)(?![\p{L}])/iu;
// Vietnamese: "số 45 ngõ 12 phố Huế", "27/4 lê văn sỹ", "thôn 3", followed by a ward, district
// or city ("phường 13, quận 3", "tp. cần thơ").
const VI_STREET = new RegExp(
  String.raw`(?<![\p{L}\p{N}/])(?:(?:số|so|hẻm|ngõ|kiệt|hem|ngo)\s+)?\d{1,5}[a-z]?(?:/\d{1,4}[a-z]?)*(?:\s+(?:ngõ|ngách|hẻm|kiệt|ngo|hem)\s+\d{1,5}(?:/\d{1,4})*)*(?:\s+(?:đường|phố|duong|pho))?(?:\s+[\p{L}][\p{L}\p{M}]*){1,4}|(?<![\p{L}])(?:thôn|ấp|xóm|khu phố|tổ|thon|ap|xom)\s+\d{1,3}`,
  "giu",
);
const VI_ADMIN = /^\s*,\s*(?:phường|quận|huyện|xã|thị xã|thị trấn|tp\.?|thành phố|tỉnh|p\.|q\.|phuong|quan|huyen|xa|thanh pho|tinh)(?![\p{L}])/iu;
// A colonia or neighbourhood written before the street ("colonia las palmas, calle 8 #312").
export const NEIGHBOURHOOD_BEFORE = /(?<![\p{L}])(?:colonia|col\.|fraccionamiento|fracc\.|barrio|urbanizaci[oó]n|urb\.)\s+[^,\n]{1,30},\s*$/iu;

/** "301 rue st-denis", "12 via roma": a number, then a street type written before the name. */
export function findPrefixTypeStreets(text: string): PiiSpan[] {
  return [...text.matchAll(NUMBER_PREFIX_STREET)].map((m): PiiSpan => ({ kind: "address", start: m.index, end: m.index + m[0].length }));
}

/** "calle 5 de febrero 88", "av. juárez 455 int 3": only with a `#` or an address word near. */
export function findSpanishStreets(text: string): PiiSpan[] {
  const cores: PiiSpan[] = [];
  for (const m of text.matchAll(SPANISH_STREET)) {
    if (m[0].includes("#") || SPANISH_CUE.test(text.slice(Math.max(0, m.index - 40), m.index + m[0].length))) {
      const unit = /^(?:,?\s*(?:int\.?|interior|depto\.?|dpto\.?|departamento|piso|apt\.?|local)\s*[\w-]{1,5}|,\s*\d{1,2}\s*[ºª°]\s*[a-z]?(?![\p{L}]))/iu.exec(
        text.slice(m.index + m[0].length),
      );
      cores.push({ kind: "address", start: m.index, end: m.index + m[0].length + (unit?.[0].length ?? 0) });
    }
  }
  return cores;
}

/** "số 12 đường Lê Lợi", "27/4 lê văn sỹ, phường 13, quận 3", "thôn 3". */
export function findVietnameseAddresses(text: string): PiiSpan[] {
  const cores: PiiSpan[] = [];
  // This form starts at any number, so it runs only when the text has what it needs to end in: a
  // cheap check that keeps long messages fast.
  const viAddressWords =
    /(?<![\p{L}])(?:phường|quận|huyện|xã|tp\.?|thành phố|tỉnh|p\.|q\.|phuong|quan|huyen|thanh pho|tinh|ngõ|ngách|hẻm|kiệt|đường|phố)(?![\p{L}])/iu.test(text);
  for (const m of viAddressWords ? text.matchAll(VI_STREET) : []) {
    const end = m.index + m[0].length;
    // Trim the name words back until an administrative segment follows.
    const words = [...m[0].matchAll(/\s+[\p{L}][\p{L}\p{M}]*/gu)];
    // "ngõ 12 phố Huế", "đường Lê Lợi": a street word makes it an address on its own.
    if (/(?<![\p{L}])(?:ngõ|ngách|hẻm|kiệt|đường|phố)(?![\p{L}])/iu.test(m[0])) {
      cores.push({ kind: "address", start: m.index, end });
      continue;
    }
    for (let cut = m[0].length, w = words.length; w >= 0; w--) {
      if (VI_ADMIN.test(text.slice(m.index + cut))) {
        cores.push({ kind: "address", start: m.index, end: m.index + cut });
        break;
      }
      const prev = words[w - 1];
      if (!prev) break;
      cut = prev.index;
      if (cut <= 0) break;
    }
  }
  return cores;
}
