/** A zip of `files`, stored without compression (all a OneRoster CSV bundle needs). */
export function zipStored(files: Record<string, string>): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const nameBytes = enc.encode(name);
    const data = enc.encode(text);
    const crc = Bun.hash.crc32(data);
    const local = new Uint8Array(30 + nameBytes.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    local.set(data, 30 + nameBytes.length);
    const central = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    central.set(nameBytes, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const centralSize = centrals.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, centrals.length, true);
  ev.setUint16(10, centrals.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + centralSize + 22);
  let at = 0;
  for (const part of [...locals, ...centrals, end]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const csv = (header: string[], rows: string[][]) => [header.join(","), ...rows.map((r) => r.join(","))].join("\n");

/**
 * A small OneRoster 1.2 CSV bundle: one school under `districtId`, a term, a class, a teacher and
 * `students` students enrolled in it. Ids carry `tag`, so bundles of different tests never meet.
 */
export function smallCsvBundle(tag: string, opts: { students?: number; extraEnrollmentRows?: string[][] } = {}): Uint8Array {
  const students = Array.from({ length: opts.students ?? 2 }, (_, i) => `s${i + 1}-${tag}`);
  const people = [`t1-${tag}`, ...students];
  return zipStored({
    "manifest.csv": csv(
      ["propertyName", "value"],
      [
        ["manifest.version", "1.0"],
        ["oneroster.version", "1.2"],
        ["file.academicSessions", "bulk"],
        ["file.orgs", "bulk"],
        ["file.courses", "bulk"],
        ["file.classes", "bulk"],
        ["file.users", "bulk"],
        ["file.enrollments", "bulk"],
      ],
    ),
    "orgs.csv": csv(
      ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"],
      [
        [`district-${tag}`, "", "", "District", "district", "", ""],
        [`school-${tag}`, "", "", `School ${tag}`, "school", "", `district-${tag}`],
      ],
    ),
    "academicSessions.csv": csv(
      ["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear"],
      [[`term-${tag}`, "", "", "Fall 2027", "term", "2027-08-20", "2027-12-20", "", "2028"]],
    ),
    "courses.csv": csv(
      ["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId"],
      [[`course-${tag}`, "", "", "", "Algebra", "ALG", "", `school-${tag}`]],
    ),
    "classes.csv": csv(
      ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode", "classType", "location", "schoolSourcedId", "termSourcedIds"],
      [[`class-${tag}`, "", "", `Algebra ${tag}`, "", `course-${tag}`, "ALG-1", "scheduled", "", `school-${tag}`, `term-${tag}`]],
    ),
    "users.csv": csv(
      [
        "sourcedId",
        "status",
        "dateLastModified",
        "enabledUser",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "primaryOrgSourcedId",
      ],
      people.map((p) => [p, "", "", "true", p, "", "Given", p, "", `SIS-${p}`, `${p}@bundle.example`, `school-${tag}`]),
    ),
    "enrollments.csv": csv(
      ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate", "endDate"],
      [
        ...people.map((p, i) => [`enr-${p}`, "", "", `class-${tag}`, `school-${tag}`, p, i === 0 ? "teacher" : "student", "false", "", ""]),
        ...(opts.extraEnrollmentRows ?? []),
      ],
    ),
  });
}
