import type { RosterEntity, RosterRecords } from "../records.ts";

type Json = Record<string, unknown>;

/** How the 1.2 REST binding shows a record: references as `{ href, sourcedId, type }`, no nulls. */
export function toRestJson<E extends RosterEntity>(entity: E, record: RosterRecords[E], base: string): Json {
  const ref = (path: string, type: string, sourcedId: string | null) =>
    sourcedId === null ? undefined : { href: `${base}/${path}/${encodeURIComponent(sourcedId)}`, sourcedId, type };
  const common = {
    sourcedId: record.sourcedId,
    status: record.status,
    dateLastModified: (record.dateLastModified ?? new Date(0)).toISOString(),
  };
  const shape = (): Json => {
    const r = record as RosterRecords[RosterEntity];
    switch (entity) {
      case "orgs": {
        const org = r as RosterRecords["orgs"];
        return { name: org.name, type: org.type, identifier: org.identifier, parent: ref("orgs", "org", org.parentSourcedId) };
      }
      case "academicSessions": {
        const session = r as RosterRecords["academicSessions"];
        return {
          title: session.title,
          type: session.type,
          startDate: session.startDate,
          endDate: session.endDate,
          parent: ref("academicSessions", "academicSession", session.parentSourcedId),
          schoolYear: session.schoolYear,
        };
      }
      case "courses": {
        const course = r as RosterRecords["courses"];
        return {
          title: course.title,
          courseCode: course.courseCode,
          org: ref("orgs", "org", course.orgSourcedId),
          schoolYear: ref("academicSessions", "academicSession", course.schoolYearSourcedId),
        };
      }
      case "classes": {
        const klass = r as RosterRecords["classes"];
        return {
          title: klass.title,
          classCode: klass.classCode,
          classType: klass.classType,
          course: ref("courses", "course", klass.courseSourcedId),
          school: ref("orgs", "org", klass.schoolSourcedId),
          terms: klass.termSourcedIds.map((id) => ref("academicSessions", "academicSession", id)),
        };
      }
      case "users": {
        const user = r as RosterRecords["users"];
        return {
          enabledUser: user.enabledUser,
          username: user.username,
          userIds: user.userIds,
          givenName: user.givenName,
          familyName: user.familyName,
          middleName: user.middleName,
          preferredFirstName: user.preferredGivenName,
          roles: user.roles.map((role) => ({ roleType: role.roleType, role: role.role, org: ref("orgs", "org", role.orgSourcedId) })),
          identifier: user.identifier,
          email: user.email,
          grades: user.grades,
          primaryOrg: ref("orgs", "org", user.primaryOrgSourcedId),
          agents: [],
        };
      }
      default: {
        const enrollment = r as RosterRecords["enrollments"];
        return {
          role: enrollment.role,
          primary: enrollment.primary,
          beginDate: enrollment.beginDate,
          endDate: enrollment.endDate,
          user: ref("users", "user", enrollment.userSourcedId),
          class: ref("classes", "class", enrollment.classSourcedId),
          school: ref("orgs", "org", enrollment.schoolSourcedId),
        };
      }
    }
  };
  const json: Json = { ...common, ...shape() };
  for (const [key, value] of Object.entries(json)) if (value === null || value === undefined) delete json[key];
  return json;
}
