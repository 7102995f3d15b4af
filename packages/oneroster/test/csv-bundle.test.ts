import { describe, expect, test } from "bun:test";
import { strToU8, zipSync } from "fflate";
import { createCsvBundleSource, RosterSourceError } from "../src/index.ts";
import { readAll } from "./helpers.ts";

const MANIFEST_ALL_BULK = [
  "propertyName,value",
  "manifest.version,1.0",
  "oneroster.version,1.2",
  "file.orgs,bulk",
  "file.academicSessions,bulk",
  "file.courses,bulk",
  "file.classes,bulk",
  "file.users,bulk",
  "file.roles,bulk",
  "file.enrollments,bulk",
  "file.demographics,absent",
].join("\n");

const FILES: Record<string, string> = {
  "manifest.csv": MANIFEST_ALL_BULK,
  "orgs.csv": ["sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId", "d1,,,North District,district,ND,", 's1,,,"Hill School, Upper",school,,d1'].join(
    "\r\n",
  ),
  // Columns in another order than the spec's, and extra ones we do not read.
  "academicSessions.csv": [
    "title,sourcedId,type,startDate,endDate,parentSourcedId,schoolYear,status,dateLastModified",
    "2027,y1,schoolYear,2026-08-15,2027-06-30,,2027,,",
    "Fall,t1,term,2026-08-15,2026-12-20,y1,2027,,",
  ].join("\n"),
  "courses.csv": [
    "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes",
    'c1,,,y1,Algebra I,ALG1,"09,10",s1,Math,',
  ].join("\n"),
  "classes.csv": [
    "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    'k1,,,"Algebra I — ""A"" block","09",c1,ALG1-A,scheduled,Room 4,s1,"t1,y1",Math,,1',
  ].join("\n"),
  "users.csv": [
    "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns",
    'u1,,,true,ada,"{clerk:user_1},{sis:1001}",Ada,Lovelace,,1001,Ada@Example.org,,,,"09,10",,,,Addy,,,s1,',
    "u2,,,false,tom,,Tom,Teacher,B,T-9,not-an-email,,,,,,,,,,,s1,",
  ].join("\r\n"),
  "roles.csv": [
    "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId",
    "r1,,,u1,primary,student,,,s1,",
    "r2,,,u2,primary,teacher,,,s1,",
    "r3,,,u2,secondary,districtAdministrator,,,d1,",
  ].join("\n"),
  "enrollments.csv": [
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate",
    "e1,,,k1,s1,u1,student,,2026-08-15,",
    "e2,,,k1,s1,u2,teacher,true,,",
  ].join("\n"),
};

function zip(files: Record<string, string | Uint8Array>): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const [name, content] of Object.entries(files)) {
    entries[name] = typeof content === "string" ? strToU8(content) : content;
  }
  return zipSync(entries);
}

function badBundle(run: () => unknown): RosterSourceError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RosterSourceError);
    expect((error as RosterSourceError).failure).toBe("bad_bundle");
    return error as RosterSourceError;
  }
  throw new Error("expected a bad_bundle error");
}

describe("createCsvBundleSource: every entity", () => {
  const source = createCsvBundleSource(zip(FILES));

  test("orgs: quoted commas, blank status is active, blank parent is null", async () => {
    const { records, rejected } = await readAll(source, "orgs");
    expect(rejected).toEqual([]);
    expect(records).toEqual([
      { sourcedId: "d1", status: "active", dateLastModified: null, name: "North District", type: "district", identifier: "ND", parentSourcedId: null },
      { sourcedId: "s1", status: "active", dateLastModified: null, name: "Hill School, Upper", type: "school", identifier: null, parentSourcedId: "d1" },
    ]);
  });

  test("academicSessions: headers matched by name in any order", async () => {
    const { records } = await readAll(source, "academicSessions");
    expect(records.map((r) => [r.sourcedId, r.type, r.startDate, r.endDate, r.parentSourcedId, r.schoolYear])).toEqual([
      ["y1", "schoolYear", "2026-08-15", "2027-06-30", null, "2027"],
      ["t1", "term", "2026-08-15", "2026-12-20", "y1", "2027"],
    ]);
  });

  test("courses and classes: doubled quotes, list fields inside quotes", async () => {
    const courses = await readAll(source, "courses");
    expect(courses.records).toEqual([
      { sourcedId: "c1", status: "active", dateLastModified: null, title: "Algebra I", courseCode: "ALG1", orgSourcedId: "s1", schoolYearSourcedId: "y1" },
    ]);
    const classes = await readAll(source, "classes");
    expect(classes.records).toEqual([
      {
        sourcedId: "k1",
        status: "active",
        dateLastModified: null,
        title: 'Algebra I — "A" block',
        classCode: "ALG1-A",
        classType: "scheduled",
        courseSourcedId: "c1",
        schoolSourcedId: "s1",
        termSourcedIds: ["t1", "y1"],
      },
    ]);
  });

  test("users: userIds, grades, roles from roles.csv, emails lower-cased or dropped", async () => {
    const { records, rejected } = await readAll(source, "users");
    expect(rejected).toEqual([]);
    expect(records).toEqual([
      {
        sourcedId: "u1",
        status: "active",
        dateLastModified: null,
        enabledUser: true,
        username: "ada",
        givenName: "Ada",
        familyName: "Lovelace",
        middleName: null,
        preferredGivenName: "Addy",
        email: "ada@example.org",
        identifier: "1001",
        userIds: [
          { type: "clerk", identifier: "user_1" },
          { type: "sis", identifier: "1001" },
        ],
        roles: [{ roleType: "primary", role: "student", orgSourcedId: "s1" }],
        primaryOrgSourcedId: "s1",
        grades: ["09", "10"],
      },
      {
        sourcedId: "u2",
        status: "active",
        dateLastModified: null,
        enabledUser: false,
        username: "tom",
        givenName: "Tom",
        familyName: "Teacher",
        middleName: "B",
        preferredGivenName: null,
        email: null,
        identifier: "T-9",
        userIds: [],
        roles: [
          { roleType: "primary", role: "teacher", orgSourcedId: "s1" },
          { roleType: "secondary", role: "districtAdministrator", orgSourcedId: "d1" },
        ],
        primaryOrgSourcedId: "s1",
        grades: [],
      },
    ]);
  });

  test("enrollments: primary defaults to false, dates kept", async () => {
    const { records } = await readAll(source, "enrollments");
    expect(records.map((r) => [r.sourcedId, r.userSourcedId, r.role, r.primary, r.beginDate, r.endDate])).toEqual([
      ["e1", "u1", "student", false, "2026-08-15", null],
      ["e2", "u2", "teacher", true, null, null],
    ]);
  });

  test("modes come from the manifest", async () => {
    expect(await source.mode("users")).toBe("bulk");
    expect(await source.mode("users", { since: new Date() })).toBe("bulk");
  });
});

describe("createCsvBundleSource: encodings and layout", () => {
  test("a BOM, CRLF, a line break inside quotes and blank lines keep line numbers right", async () => {
    const orgs = [
      "\ufeffsourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
      'd1,,,"North\r\nDistrict",district,,',
      "",
      "s1,,,Hill,schol,,d1",
      "s2,,,Vale,school,,d1",
    ].join("\r\n");
    const source = createCsvBundleSource(zip({ "manifest.csv": "propertyName,value\noneroster.version,1.2\nfile.orgs,bulk", "orgs.csv": orgs }));
    const { records, rejected } = await readAll(source, "orgs");
    expect(records.map((r) => [r.sourcedId, r.name])).toEqual([
      ["d1", "North\r\nDistrict"],
      ["s2", "Vale"],
    ]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ entity: "orgs", file: "orgs.csv", line: 5, sourcedId: "s1" });
    expect(rejected[0]?.reason).toContain("type");
  });

  test("files inside one zipped folder are found; entities the manifest leaves out are absent", async () => {
    const source = createCsvBundleSource(
      zip({ "export/manifest.csv": "propertyName,value\noneroster.version,1.2\nfile.ORGS,Delta", "export/orgs.csv": FILES["orgs.csv"] ?? "" }),
    );
    expect(await source.mode("orgs")).toBe("delta");
    expect(await source.mode("users")).toBe("absent");
    expect((await readAll(source, "users")).pages).toEqual([]);
    expect((await readAll(source, "orgs")).records).toHaveLength(2);
  });

  test("pages hold at most pageSize records; the rejected rows ride on the first page", async () => {
    const rows = ["sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"];
    for (let i = 0; i < 25; i += 1) rows.push(`o${i},,,Org ${i},${i === 20 ? "bogus" : "school"},,`);
    const source = createCsvBundleSource(zip({ "manifest.csv": "propertyName,value\noneroster.version,1.2\nfile.orgs,bulk", "orgs.csv": rows.join("\n") }), {
      pageSize: 10,
    });
    const { pages } = await readAll(source, "orgs");
    expect(pages.map((page) => page.records.length)).toEqual([10, 10, 4]);
    expect(pages.map((page) => page.rejected.map((r) => r.line))).toEqual([[22], [], []]);
  });

  test("a bulk file with only its header is one empty page", async () => {
    const source = createCsvBundleSource(zip({ "manifest.csv": "propertyName,value\noneroster.version,1.2\nfile.orgs,bulk", "orgs.csv": "sourcedId,name,type\n" }));
    expect((await readAll(source, "orgs")).pages).toEqual([{ records: [], rejected: [] }]);
  });

  test("users.csv in the 1.1 layout without roles.csv: roles from its role and orgSourcedIds columns", async () => {
    const users = [
      "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password",
      'u9,,,true,"s1,s2",administrator,pat,,Pat,Admin,,,pat@example.org,,,,,',
    ].join("\n");
    const source = createCsvBundleSource(zip({ "manifest.csv": "propertyName,value\noneroster.version,1.2\nfile.users,bulk", "users.csv": users }));
    const { records } = await readAll(source, "users");
    expect(records[0]?.roles).toEqual([
      { roleType: "primary", role: "siteAdministrator", orgSourcedId: "s1" },
      { roleType: "secondary", role: "siteAdministrator", orgSourcedId: "s2" },
    ]);
  });
});

describe("createCsvBundleSource: bad rows are rejected with their line, never thrown", () => {
  const manifest = "propertyName,value\noneroster.version,1.2\nfile.users,delta\nfile.roles,delta\nfile.enrollments,delta";
  const users = [
    "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,email,grades,primaryOrgSourcedId",
    "u1,active,2026-11-30T10:00:00.000Z,true,ada,,Ada,L,a@x.org,,s1",
    "u2,active,yesterday,true,bob,,Bob,M,,,s1", // 3: bad date
    "u3,active,2026-11-30T10:00:00Z,maybe,cy,,Cy,N,,,s1", // 4: bad boolean
    "u4,active,2026-11-30T10:00:00Z,true,,,Di,O,,,s1", // 5: no username
    "u5,active,2026-11-30T10:00:00Z,true,ed,clerk:user_5,Ed,P,,,s1", // 6: userIds not in braces
    "u6,active,2026-11-30T10:00:00Z,true,fy", // 7: too few fields
    "u7,inactive,2026-11-30T10:00:00Z,true,gil,,Gil,Q,,,s1", // 8: not a 1.2 status
    "u8,tobedeleted,2026-11-30T10:00:00Z,true,hal,,Hal,R,,,s1",
  ].join("\n");
  const roles = [
    "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId",
    "r1,active,2026-11-30T10:00:00Z,u1,primary,student,,,s1",
    "r2,active,2026-11-30T10:00:00Z,u1,primary,wizard,,,s1", // 3: bad role
    "r3,active,2026-11-30T10:00:00Z,u404,primary,student,,,s1", // 4: unknown user
    "r4,tobedeleted,2026-11-30T10:00:00Z,u1,secondary,aide,,,s2",
  ].join("\n");
  const enrollments = [
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate",
    "e1,tobedeleted,2026-11-30T10:00:00Z,k1,s1,u1,student,false,,",
    "e2,active,2026-11-30T10:00:00Z,k1,s1,u1,student,false,2026-13-45,", // 3: bad date
    'e3,active,2026-11-30T10:00:00Z,k1,s1,"u1,student,false,,', // 4: quote never closed
    "e4,active,2026-11-30T10:00:00Z,k1,s1,u2,student,false,,",
  ].join("\n");
  const source = createCsvBundleSource(zip({ "manifest.csv": manifest, "users.csv": users, "roles.csv": roles, "enrollments.csv": enrollments }));

  test("users and their roles", async () => {
    expect(await source.mode("users")).toBe("delta");
    const { records, rejected } = await readAll(source, "users");
    expect(records.map((r) => [r.sourcedId, r.status, r.dateLastModified?.toISOString()])).toEqual([
      ["u1", "active", "2026-11-30T10:00:00.000Z"],
      ["u8", "tobedeleted", "2026-11-30T10:00:00.000Z"],
    ]);
    expect(records[0]?.roles).toEqual([{ roleType: "primary", role: "student", orgSourcedId: "s1" }]);
    const where = rejected.map((r) => [r.file, r.line, r.sourcedId]).sort(byFileThenLine);
    expect(where).toEqual(
      [
        ["roles.csv", 3, "u1"],
        ["users.csv", 3, "u2"],
        ["users.csv", 4, "u3"],
        ["users.csv", 5, "u4"],
        ["users.csv", 6, "u5"],
        ["users.csv", 7, "u6"],
        ["users.csv", 8, "u7"],
        ["roles.csv", 4, "u404"],
      ].sort(byFileThenLine) as typeof where,
    );
    for (const r of rejected) expect(r.reason.length).toBeGreaterThan(3);
    expect(rejected.find((r) => r.line === 3 && r.file === "users.csv")?.reason).toContain("dateLastModified");
    expect(rejected.find((r) => r.line === 4 && r.file === "users.csv")?.reason).toContain("enabledUser");
    expect(rejected.find((r) => r.line === 6)?.reason).toContain("userIds");
    expect(rejected.find((r) => r.line === 7)?.reason).toContain("fields");
  });

  test("enrollments: a bad date and an unclosed quote", async () => {
    const { records, rejected } = await readAll(source, "enrollments");
    expect(records.map((r) => [r.sourcedId, r.status])).toEqual([["e1", "tobedeleted"]]);
    expect(rejected.map((r) => r.line).sort()).toEqual([3, 4]);
    expect(rejected.find((r) => r.line === 4)?.reason).toContain("to the end of the file");
  });
});

function byFileThenLine(a: (string | number | undefined)[], b: (string | number | undefined)[]): number {
  return String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1]);
}

describe("createCsvBundleSource: bad bundles fail as a whole", () => {
  const manifest = "propertyName,value\noneroster.version,1.2\nfile.orgs,bulk";
  const orgs = FILES["orgs.csv"] ?? "";

  test("not a zip", () => {
    expect(badBundle(() => createCsvBundleSource(strToU8("sourcedId,name\n"))).message).toContain("zip");
    expect(badBundle(() => createCsvBundleSource(new Uint8Array())).message).toContain("zip");
  });
  test("a truncated zip", () => {
    const bytes = zip({ "manifest.csv": manifest, "orgs.csv": orgs });
    badBundle(() => createCsvBundleSource(bytes.subarray(0, bytes.length - 30)));
  });
  test("no manifest", () => {
    expect(badBundle(() => createCsvBundleSource(zip({ "orgs.csv": orgs }))).message).toContain("manifest.csv");
  });
  test("another OneRoster version", () => {
    const old = "propertyName,value\noneroster.version,1.1\nfile.orgs,bulk";
    expect(badBundle(() => createCsvBundleSource(zip({ "manifest.csv": old, "orgs.csv": orgs }))).message).toContain("1.1");
    const none = "propertyName,value\nfile.orgs,bulk";
    badBundle(() => createCsvBundleSource(zip({ "manifest.csv": none, "orgs.csv": orgs })));
  });
  test("a file the manifest lists as bulk is missing", () => {
    expect(badBundle(() => createCsvBundleSource(zip({ "manifest.csv": manifest }))).message).toContain("orgs.csv");
  });
  test("an unknown mode", () => {
    const odd = "propertyName,value\noneroster.version,1.2\nfile.orgs,partial";
    badBundle(() => createCsvBundleSource(zip({ "manifest.csv": odd, "orgs.csv": orgs })));
  });
  test("a file without a key column", () => {
    const headless = "sourcedId,status,dateLastModified,type\nd1,,,district";
    expect(badBundle(() => createCsvBundleSource(zip({ "manifest.csv": manifest, "orgs.csv": headless }))).message).toContain("name");
  });
  test("zip bomb: too many bytes once inflated, too many entries", () => {
    const huge = new Uint8Array(3 * 1024 * 1024); // compresses to a few KB
    const bytes = zip({ "manifest.csv": manifest, "orgs.csv": huge });
    expect(bytes.length).toBeLessThan(100_000);
    const error = badBundle(() => createCsvBundleSource(bytes, { limits: { maxUncompressedBytes: 1024 * 1024 } }));
    expect(error.message).toContain("expands");
    const many: Record<string, string> = { "manifest.csv": manifest, "orgs.csv": orgs };
    for (let i = 0; i < 100; i += 1) many[`junk/${i}.txt`] = "x";
    expect(badBundle(() => createCsvBundleSource(zip(many))).message).toContain("entries");
  });
  test("a header that lies about the inflated size cannot make the reader allocate more", () => {
    const bytes = zip({ "manifest.csv": manifest, "orgs.csv": new Uint8Array(2 * 1024 * 1024) });
    // Rewrite the declared size of orgs.csv in the central directory down to 10 bytes: the
    // reader inflates into a 10-byte buffer and the bundle no longer has a readable header row.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let offset = bytes.length - 22; offset >= 0; offset -= 1) {
      if (view.getUint32(offset, true) !== 0x02014b50) continue;
      const nameLength = view.getUint16(offset + 28, true);
      const name = new TextDecoder().decode(bytes.subarray(offset + 46, offset + 46 + nameLength));
      if (name === "orgs.csv") view.setUint32(offset + 24, 10, true);
    }
    const error = badBundle(() => createCsvBundleSource(bytes, { limits: { maxUncompressedBytes: 1024 * 1024 } }));
    expect(error.message).not.toContain("expands");
  });
});
