import type { MessageDto } from "@raptscallions/core";
import type { messages, sessions } from "@raptscallions/db";

export function toMessageDto(m: typeof messages.$inferSelect): MessageDto {
  return {
    id: m.id,
    sessionId: m.sessionId,
    seq: m.seq,
    role: m.role,
    authorId: m.authorId,
    content: m.content,
    state: m.state,
    clientMessageId: m.clientMessageId,
    meta: m.meta,
    createdAt: m.createdAt.toISOString(),
    finalizedAt: m.finalizedAt?.toISOString() ?? null,
  };
}

export type SessionDto = ReturnType<typeof toSessionDto>;
export function toSessionDto(s: typeof sessions.$inferSelect) {
  return {
    id: s.id,
    toolId: s.toolId,
    toolVersion: s.toolVersion,
    studentId: s.studentId,
    groupId: s.groupId,
    classId: s.classId,
    assignmentId: s.assignmentId,
    state: s.state,
    title: s.title,
    startedAt: s.startedAt.toISOString(),
    endedAt: s.endedAt?.toISOString() ?? null,
  };
}
