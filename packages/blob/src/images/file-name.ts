import { AppError } from "@raptscallions/core";

const MAX_FILE_NAME_LENGTH = 255;
// C0/C1 controls and DEL; and the invisible characters used to disguise a name's real ending
// (bidi overrides such as U+202E turn "logo\u202Egnp.exe" into "logoexe.png" on screen).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

/**
 * Checks an uploaded file's name and returns its lowercased extension (without the dot).
 * Refuses (AppError VALIDATION_FAILED, reason `bad_file_name`) names that are empty, too long,
 * carry a path (`/`, `\`, `:`, `..`), start with a dot, contain control or invisible formatting
 * characters, or have no extension. The name is never used as a storage key, but it is shown
 * back to people and logged, so it must not be able to lie about itself.
 */
export function fileNameExtension(fileName: unknown): string {
  if (typeof fileName !== "string" || fileName.length === 0) {
    throw badName("File name is missing");
  }
  if (fileName.length > MAX_FILE_NAME_LENGTH) throw badName("File name is too long");
  if (CONTROL.test(fileName)) throw badName("File name contains control characters");
  if (INVISIBLE.test(fileName)) throw badName("File name contains invisible formatting characters");
  if (/[/\\:]/.test(fileName) || fileName.includes("..")) {
    throw badName("File name must not contain a path");
  }
  if (fileName.startsWith(".") || fileName.trim() !== fileName) {
    throw badName("File name must not start with a dot or be padded with spaces");
  }
  const dot = fileName.lastIndexOf(".");
  if (dot <= 0 || dot === fileName.length - 1) throw badName("File name has no extension");
  return fileName.slice(dot + 1).toLowerCase();
}

function badName(message: string): AppError {
  return new AppError("VALIDATION_FAILED", message, { details: { reason: "bad_file_name" } });
}
