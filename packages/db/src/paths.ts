/** ltree labels allow [A-Za-z0-9_]; a uuid becomes a label by swapping `-` for `_`. */
export function pathLabel(groupId: string): string {
  return groupId.replaceAll("-", "_");
}

/** The ltree path of a group given its parent's path (or none for a root). */
export function groupPath(groupId: string, parentPath?: string | null): string {
  return parentPath ? `${parentPath}.${pathLabel(groupId)}` : pathLabel(groupId);
}

/** Group ids from root to the group itself, read back from a path. */
export function idsFromPath(path: string): string[] {
  return path.split(".").map((label) => label.replaceAll("_", "-"));
}
