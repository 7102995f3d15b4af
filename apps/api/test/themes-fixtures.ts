// Shared helpers of the themes tests: real, decodable images built in code, multipart bodies
// (well-formed and not), and a look inside the stores so tests can prove nothing was written.
import { addGroupMember, makeGroup, makeUser } from "@raptscallions/db/testing";
import type { DbOrTx } from "@raptscallions/db";
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { ascii, concatBytes, gif, pngChunk } from "@raptscallions/blob/testing";

// Byte builders shared with the blob package's own tests (one PNG chunk writer, one CRC).
export { concatBytes, gif };

function u32be(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/**
 * An 8-bit greyscale PNG. `seed` varies the pixels so each call can make distinct bytes (a
 * distinct sha256), and `noise` makes the pixel data incompressible, for large files.
 */
export function png(width = 2, height = 2, opts: { seed?: number; noise?: boolean } = {}): Uint8Array {
  const ihdr = concatBytes(u32be(width), u32be(height), new Uint8Array([8, 0, 0, 0, 0]));
  const raw = new Uint8Array(height * (width + 1));
  let state = (opts.seed ?? 0x80) >>> 0 || 1;
  for (let y = 0; y < height; y++) {
    for (let x = 1; x <= width; x++) {
      // xorshift: deterministic "noise" that deflate cannot shrink.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      raw[y * (width + 1) + x] = opts.noise ? state & 0xff : (opts.seed ?? 0x80) & 0xff;
    }
  }
  return concatBytes(
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", new Uint8Array(deflateSync(raw))),
    pngChunk("IEND", new Uint8Array()),
  );
}

/** A PNG with a ZIP archive (local header + end-of-central-directory) appended: a polyglot. */
export function pngZipPolyglot(): Uint8Array {
  const localHeader = concatBytes(new Uint8Array([0x50, 0x4b, 0x03, 0x04]), new Uint8Array(26), ascii("a.php"));
  const eocd = concatBytes(new Uint8Array([0x50, 0x4b, 0x05, 0x06]), new Uint8Array(18));
  return concatBytes(png(2, 2, { seed: 7 }), localHeader, ascii("<?php system($_GET['c']); ?>"), eocd);
}

export const SVG_WITH_SCRIPT = ascii('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>');

/** A multipart form with one file part (through the runtime's FormData: a real boundary). */
export function fileForm(bytes: Uint8Array, fileName: string, type = "", field = "file"): FormData {
  const form = new FormData();
  form.append(field, new File([bytes as Uint8Array<ArrayBuffer>], fileName, { type }));
  return form;
}

/** A hand-written multipart body, for the cases FormData would not produce. */
export function rawMultipart(
  parts: { headers: string; body: Uint8Array | string }[],
  boundary = "XyZboundary",
): {
  body: Uint8Array;
  contentType: string;
} {
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    chunks.push(ascii(`--${boundary}\r\n${part.headers}\r\n\r\n`));
    chunks.push(typeof part.body === "string" ? ascii(part.body) : part.body);
    chunks.push(ascii("\r\n"));
  }
  chunks.push(ascii(`--${boundary}--\r\n`));
  return { body: concatBytes(...chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Every object file the directory blob store holds under `root`. */
export function storedObjectFiles(root: string): string[] {
  const objects = join(root, "objects");
  if (!existsSync(objects)) return [];
  return readdirSync(objects, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/**
 * district → school → department → sub-department, with an admin at the district and at the
 * school, a teacher (member) in the sub-department, and an outsider with a group of their own.
 */
export async function makeFourLevelTree(db: DbOrTx) {
  const district = await makeGroup(db, { kind: "district" });
  const school = await makeGroup(db, { kind: "school", parent: district });
  const department = await makeGroup(db, { kind: "department", parent: school });
  const subDepartment = await makeGroup(db, { kind: "department", parent: department });
  const districtAdmin = await makeUser(db);
  const schoolAdmin = await makeUser(db);
  const teacher = await makeUser(db);
  const outsider = await makeUser(db);
  const otherDistrict = await makeGroup(db, { kind: "district" });
  await addGroupMember(db, district.id, districtAdmin.id, "admin");
  await addGroupMember(db, school.id, schoolAdmin.id, "admin");
  await addGroupMember(db, subDepartment.id, teacher.id, "teacher");
  await addGroupMember(db, otherDistrict.id, outsider.id, "admin");
  return { district, school, department, subDepartment, districtAdmin, schoolAdmin, teacher, outsider, otherDistrict };
}
