import { unzipSync } from "fflate";
import { RosterSourceError } from "../source.ts";

/** Bounds on what one uploaded bundle may expand to: a zip bomb fails before it is inflated. */
export interface BundleLimits {
  /** Sum of the uncompressed sizes of the files read. Default 256 MiB. */
  maxUncompressedBytes?: number;
  /** Entries in the zip's central directory. Default 64 (a bundle has at most two dozen files). */
  maxEntries?: number;
}

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
const DEFAULT_MAX_ENTRIES = 64;

/**
 * The bundle's CSV files by lower-cased base name. Files may sit at the root or in one folder (a
 * zipped directory); anything else (macOS resource forks, other files) is ignored.
 */
export function readBundleZip(zipBytes: Uint8Array, limits: BundleLimits = {}): Map<string, Uint8Array> {
  const maxBytes = limits.maxUncompressedBytes ?? DEFAULT_MAX_BYTES;
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  let entries = 0;
  let declaredBytes = 0;
  const names = new Map<string, string>();
  let unzipped: Record<string, Uint8Array>;
  try {
    unzipped = unzipSync(zipBytes, {
      // fflate inflates each entry into a buffer of its declared size and never grows it, so
      // capping the declared sizes caps the memory a lying header can make us spend.
      filter(file) {
        entries += 1;
        if (entries > maxEntries) throw new BundleLimitError(`the zip has more than ${maxEntries} entries`);
        const name = bundleFileName(file.name);
        if (name === null) return false;
        if (names.has(name)) throw new BundleLimitError(`the zip holds ${name} twice`);
        names.set(name, file.name);
        declaredBytes += file.originalSize;
        if (declaredBytes > maxBytes) {
          throw new BundleLimitError(`the bundle expands to more than ${maxBytes} bytes`);
        }
        return true;
      },
    });
  } catch (error) {
    if (error instanceof BundleLimitError) throw new RosterSourceError("bad_bundle", error.message);
    throw new RosterSourceError("bad_bundle", "the upload is not a readable zip file", { cause: error });
  }
  const files = new Map<string, Uint8Array>();
  for (const [name, path] of names) {
    const bytes = unzipped[path];
    if (bytes) files.set(name, bytes);
  }
  return files;
}

class BundleLimitError extends Error {}

function bundleFileName(path: string): string | null {
  if (path.endsWith("/") || path.startsWith("__MACOSX/")) return null;
  const parts = path.split("/");
  if (parts.length > 2) return null;
  const base = (parts.at(-1) ?? "").toLowerCase();
  return base.endsWith(".csv") && !base.startsWith(".") ? base : null;
}
