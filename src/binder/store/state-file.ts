/**
 * The binder's state file: one JSON snapshot of every collection, replaced
 * atomically. A write goes to `FILE.tmp`, is fsynced, renamed over FILE,
 * and the directory is fsynced, so FILE is at every moment either the
 * previous snapshot or the new one, whole (POSIX rename(2) is atomic; the
 * directory's fsync makes the rename itself survive a power loss). A crash
 * mid-write leaves at most a torn `FILE.tmp`, which the next start removes.
 *
 * Why a snapshot rather than an append-only log: the binder's state is
 * small (a few hundred bytes per registration, 65,536 at most) and changes
 * seldom (a server registers when it starts), so rewriting all of it costs
 * little, needs no compaction, and leaves no torn tail to recover: reading
 * is one JSON.parse, and a file that does not parse was damaged by
 * something other than us, which we say rather than guess around.
 */
import { readFileSync, rmSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { dirname } from "node:path";
import type { StoreEntry } from "./collection.js";
import { StoreError } from "./store-error.js";

/** What the file's `format` field says, so that another JSON file is not taken for state. */
export const STATE_FILE_FORMAT = "once-rpc binder state";

/** The version of the layout written; a file of a later version is refused. */
export const STATE_FILE_VERSION = 1;

/** The collections of a state file, by name, each as its entries. */
export type StateContents = ReadonlyMap<string, readonly StoreEntry[]>;

/** The temporary file a write goes through. */
export function temporaryPathOf(path: string): string {
  return `${path}.tmp`;
}

/**
 * Reads a state file; undefined when there is none. A torn temporary file
 * left by a write that did not finish is removed (and reported through
 * `onTornWrite`): the state file beside it is the last whole snapshot.
 * Throws StoreError STATE_FILE_CORRUPT when the file does not parse or is
 * not a state file, STATE_FILE_IO when it cannot be read.
 */
export function readStateFile(path: string, onTornWrite?: (tmp: string) => void): StateContents | undefined {
  const tmp = temporaryPathOf(path);
  try {
    rmSync(tmp);
    onTornWrite?.(tmp);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new StoreError("STATE_FILE_IO", `cannot remove ${tmp}: ${String(error)}`, { cause: error });
    }
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StoreError("STATE_FILE_IO", `cannot read ${path}: ${String(error)}`, { cause: error });
  }
  return parseState(text, path);
}

/** The contents of a state file's text; throws StoreError STATE_FILE_CORRUPT, naming `path`, when it is not one. */
export function parseState(text: string, path: string): StateContents {
  const corrupt = (why: string): never => {
    throw new StoreError(
      "STATE_FILE_CORRUPT",
      `${path}: ${why}; the binder will not start on it (move it away to start empty)`,
    );
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    // A snapshot is replaced whole by rename: a file that does not parse was cut or changed by something else.
    return corrupt(`${text.length} bytes that are not whole JSON (${(error as Error).message})`);
  }
  if (typeof doc !== "object" || doc === null) return corrupt("not a JSON object");
  const d = doc as Record<string, unknown>;
  if (d.format !== STATE_FILE_FORMAT) return corrupt(`its format is not "${STATE_FILE_FORMAT}"`);
  if (d.version !== STATE_FILE_VERSION) {
    return corrupt(`version ${JSON.stringify(d.version)}; this binder reads version ${STATE_FILE_VERSION}`);
  }
  if (typeof d.collections !== "object" || d.collections === null) return corrupt("no collections");
  const out = new Map<string, StoreEntry[]>();
  for (const [name, entries] of Object.entries(d.collections as Record<string, unknown>)) {
    if (!Array.isArray(entries)) return corrupt(`collections.${name} is not an array`);
    const list: StoreEntry[] = [];
    entries.forEach((e, i) => {
      if (
        typeof e !== "object" ||
        e === null ||
        typeof (e as StoreEntry).key !== "string" ||
        !("value" in e)
      ) {
        corrupt(`collections.${name}[${i}] is not a {key, value} entry`);
      }
      list.push({ key: (e as StoreEntry).key, value: (e as StoreEntry).value });
    });
    out.set(name, list);
  }
  return out;
}

/** The text of a state file holding `contents`. */
export function formatState(contents: StateContents, savedAt: Date): string {
  const collections: Record<string, readonly StoreEntry[]> = {};
  for (const [name, entries] of contents) collections[name] = entries;
  return `${JSON.stringify({
    format: STATE_FILE_FORMAT,
    version: STATE_FILE_VERSION,
    savedAt: savedAt.toISOString(),
    collections,
  })}\n`;
}

/**
 * Replaces the state file with `text`, atomically and durably: temporary
 * file, fsync, rename, fsync of the directory. Throws StoreError
 * STATE_FILE_IO when any step fails (FILE is then as it was).
 */
export async function writeStateFile(path: string, text: string): Promise<void> {
  const tmp = temporaryPathOf(path);
  try {
    const file = await open(tmp, "w", 0o644);
    try {
      await file.writeFile(text, "utf8");
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
    const dir = await open(dirname(path), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (error) {
    throw new StoreError("STATE_FILE_IO", `cannot write ${path}: ${String(error)}`, { cause: error });
  }
}
