import type { ClassRole } from "@raptscallions/db";

/** A class membership as an actor holds it: the role and where the class sits in the group tree. */
export interface ClassRoleEntry {
  readonly role: ClassRole;
  readonly groupId: string;
  readonly groupPath: string;
}

const NONE: ReadonlyMap<string, ClassRoleEntry> = new Map();

/**
 * One class membership as a read-only map: a student holds exactly one, for as long as any of their
 * sockets is open, and a `Map` carries a hash table of its own (about 700 bytes of RSS) for it.
 * This is one object: the map is its own (only) entry, so a student's actor holds no entry object
 * beside it. Read-only, like every entry an actor holds.
 */
class OneClassRole implements ReadonlyMap<string, ClassRoleEntry>, ClassRoleEntry {
  // A private slot, not a property: as an entry it reads exactly as the fields of one.
  readonly #classId: string;

  constructor(
    classId: string,
    readonly role: ClassRole,
    readonly groupId: string,
    readonly groupPath: string,
  ) {
    this.#classId = classId;
  }

  get size() {
    return 1;
  }

  get(key: string): ClassRoleEntry | undefined {
    return key === this.#classId ? this : undefined;
  }

  has(key: string): boolean {
    return key === this.#classId;
  }

  forEach(callback: (value: ClassRoleEntry, key: string, map: ReadonlyMap<string, ClassRoleEntry>) => void, thisArg?: unknown): void {
    callback.call(thisArg, this, this.#classId, this);
  }

  *entries(): MapIterator<[string, ClassRoleEntry]> {
    yield [this.#classId, this];
  }

  *keys(): MapIterator<string> {
    yield this.#classId;
  }

  *values(): MapIterator<ClassRoleEntry> {
    yield this;
  }

  [Symbol.iterator](): MapIterator<[string, ClassRoleEntry]> {
    return this.entries();
  }
}

/** An actor's class roles by class id: shared empty, one entry in two fields, or a `Map`. */
export function classRoleMap(rows: readonly { classId: string; role: ClassRole; groupId: string; groupPath: string }[]): ReadonlyMap<string, ClassRoleEntry> {
  if (rows.length === 0) return NONE;
  const [only] = rows;
  if (rows.length === 1 && only) return new OneClassRole(only.classId, only.role, only.groupId, only.groupPath);
  return new Map(rows.map((r) => [r.classId, { role: r.role, groupId: r.groupId, groupPath: r.groupPath }]));
}
