import type { ClassRole } from "@raptscallions/db";

/** A class membership as an actor holds it: the role and where the class sits in the group tree. */
export interface ClassRoleEntry {
  role: ClassRole;
  groupId: string;
  groupPath: string;
}

const NONE: ReadonlyMap<string, ClassRoleEntry> = new Map();

/**
 * One class membership as a read-only map: a student holds exactly one, for as long as any of their
 * sockets is open, and a `Map` carries a hash table of its own (about 700 bytes of RSS) for it.
 * This is two fields.
 */
class OneClassRole implements ReadonlyMap<string, ClassRoleEntry> {
  constructor(
    private readonly classId: string,
    private readonly entry: ClassRoleEntry,
  ) {}

  get size() {
    return 1;
  }

  get(key: string): ClassRoleEntry | undefined {
    return key === this.classId ? this.entry : undefined;
  }

  has(key: string): boolean {
    return key === this.classId;
  }

  forEach(callback: (value: ClassRoleEntry, key: string, map: ReadonlyMap<string, ClassRoleEntry>) => void, thisArg?: unknown): void {
    callback.call(thisArg, this.entry, this.classId, this);
  }

  *entries(): MapIterator<[string, ClassRoleEntry]> {
    yield [this.classId, this.entry];
  }

  *keys(): MapIterator<string> {
    yield this.classId;
  }

  *values(): MapIterator<ClassRoleEntry> {
    yield this.entry;
  }

  [Symbol.iterator](): MapIterator<[string, ClassRoleEntry]> {
    return this.entries();
  }
}

/** An actor's class roles by class id: shared empty, one entry in two fields, or a `Map`. */
export function classRoleMap(rows: readonly { classId: string; role: ClassRole; groupId: string; groupPath: string }[]): ReadonlyMap<string, ClassRoleEntry> {
  if (rows.length === 0) return NONE;
  const [only] = rows;
  if (rows.length === 1 && only) return new OneClassRole(only.classId, { role: only.role, groupId: only.groupId, groupPath: only.groupPath });
  return new Map(rows.map((r) => [r.classId, { role: r.role, groupId: r.groupId, groupPath: r.groupPath }]));
}
