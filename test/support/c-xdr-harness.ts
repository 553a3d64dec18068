/**
 * A C peer for XDR interop tests: the reference implementation (rpcgen's
 * output linked with libtirpc) in a long-lived child process.
 *
 * At test time, {@link startCXdrPeer} runs `rpcgen -h` and `rpcgen -c` on a
 * `.x` file in a temporary directory, writes a small C driver, compiles it
 * with `gcc -I/usr/include/tirpc … -ltirpc`, and starts it. The driver serves
 * a framed protocol on stdin/stdout, one request after another, so that
 * thousands of samples go through one process:
 *
 *   request:  [u32 type index][u32 length][length bytes]
 *   response: [u32 status][u32 length][length bytes]
 *
 * For each request C decodes the bytes with `xdr_<type>` (XDR_DECODE) into a
 * zeroed object, re-encodes that object (XDR_ENCODE) and answers with the
 * bytes it wrote, then releases the object with `xdr_free`. Status:
 * {@link CXdrStatus}. All integers big-endian, like XDR itself.
 *
 * A request whose index has the top bit set (0x80000000 | i) asks instead
 * for producer i: C code the test supplies fills a zeroed object, and the
 * driver answers with C's encoding of it. That is the direction where C, not
 * TypeScript, chooses the value, so a test can check that both sides give
 * each field the same meaning, not only the same bytes.
 *
 * Nothing is committed as a binary: the design requires C peers to be built
 * from source at test time. Missing tools are an error, never a skip.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** What the C driver answers. */
export const CXdrStatus = {
  /** Decoded, consumed every byte, re-encoded: the bytes are C's encoding. */
  OK: 0,
  /** `xdr_<type>` (XDR_DECODE) returned FALSE: C rejects the input. */
  DECODE_FAILED: 1,
  /** Decoding worked but re-encoding the decoded value failed. */
  ENCODE_FAILED: 2,
  /** Decoding worked but left bytes unread; the bytes are C's re-encoding of what it did read. */
  TRAILING_BYTES: 3,
} as const;
export type CXdrStatus = (typeof CXdrStatus)[keyof typeof CXdrStatus];

/** One answer of the C driver. */
export interface CXdrReply {
  readonly status: CXdrStatus;
  /** C's re-encoding (status OK or TRAILING_BYTES), else empty. */
  readonly bytes: Uint8Array;
}

/** Options of {@link startCXdrPeer}. */
export interface CXdrPeerOptions {
  /** The `.x` file (it is copied, so `#include`s relative to it are not followed). */
  readonly xFile: string;
  /** The .x type names the peer serves; a request names one by its index in this list. */
  readonly types: readonly string[];
  /** C compiler flags, before the include paths and files. Default: `-O1`. */
  readonly cflags?: readonly string[];
  /**
   * The C type of a .x type, where it is not the .x name itself: a type the C
   * library defines without a typedef (`netbuf` -> `struct netbuf`).
   */
  readonly cTypeNames?: Readonly<Record<string, string>>;
  /** C code that builds values for {@link CXdrPeer.produce}. */
  readonly producers?: readonly CProducer[];
}

/**
 * A value built in C: `body` is the body of a function
 * `void f(<type> *v)` that fills `*v` (zeroed first). Point at literals or
 * static data only: produced values are encoded, never freed.
 */
export interface CProducer {
  readonly name: string;
  /** A .x type among the peer's `types`. */
  readonly type: string;
  readonly body: string;
}

/** A running C peer. */
export interface CXdrPeer {
  readonly types: readonly string[];
  /** Decodes `bytes` as `type` in C and answers with C's re-encoding. Requests are pipelined. */
  roundTrip(type: string, bytes: Uint8Array): Promise<CXdrReply>;
  /** Many round trips of one type, pipelined through the one process. */
  roundTripAll(type: string, inputs: readonly Uint8Array[]): Promise<CXdrReply[]>;
  /** C's encoding of the value that producer `name` builds. */
  produce(name: string): Promise<CXdrReply>;
  /** Ends the child process and removes the temporary directory. Safe to call twice. */
  close(): Promise<void>;
}

/** The largest request the driver accepts (it exits on a larger one). */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
/** The top bit of a request's index: a producer, not a type. */
const PRODUCE_BIT = 0x8000_0000;

/**
 * Throws a clear error when the tools the C peer needs are not installed.
 * The interop tests must fail, not skip, on such a machine.
 */
export async function checkCToolchain(): Promise<void> {
  const missing: string[] = [];
  for (const tool of ["gcc", "rpcgen"]) {
    try {
      await run("sh", ["-c", `command -v ${tool}`]);
    } catch {
      missing.push(tool);
    }
  }
  if (!existsSync("/usr/include/tirpc/rpc/rpc.h")) missing.push("/usr/include/tirpc/rpc/rpc.h");
  if (missing.length > 0) {
    throw new Error(
      `C XDR interop needs ${missing.join(", ")}: install the Debian packages gcc, rpcsvc-proto (rpcgen) ` +
        "and libtirpc-dev. These tests are required and are never skipped.",
    );
  }
}

/** Builds the C peer for `options.xFile` and starts it. */
export async function startCXdrPeer(options: CXdrPeerOptions): Promise<CXdrPeer> {
  await checkCToolchain();
  if (options.types.length === 0) throw new Error("startCXdrPeer: no types");
  for (const t of options.types) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) throw new Error(`startCXdrPeer: '${t}' is not a C identifier`);
  }
  const dir = await mkdtemp(join(tmpdir(), "once-c-xdr-"));
  let child: ChildProcessWithoutNullStreams;
  try {
    const stem = basename(options.xFile)
      .replace(/\.x$/, "")
      .replace(/[^A-Za-z0-9_]/g, "_");
    // rpcgen writes `#include "<input path minus .x>.h"` into the _xdr.c file, so run it on a copy in `dir`.
    await copyFile(options.xFile, join(dir, `${stem}.x`));
    await rpcgen(dir, ["-h", "-o", `${stem}.h`, `${stem}.x`]);
    await rpcgen(dir, ["-c", "-o", `${stem}_xdr.c`, `${stem}.x`]);
    const producers = options.producers ?? [];
    for (const p of producers) {
      if (!options.types.includes(p.type))
        throw new Error(`producer ${p.name}: '${p.type}' is not among the types`);
    }
    await writeFile(
      join(dir, "driver.c"),
      driverSource(`${stem}.h`, options.types, options.cTypeNames ?? {}, producers),
    );
    const exe = join(dir, "driver");
    try {
      await run(
        "gcc",
        [
          ...(options.cflags ?? ["-O1"]),
          "-w",
          "-I/usr/include/tirpc",
          "-I",
          dir,
          "-o",
          exe,
          join(dir, "driver.c"),
          join(dir, `${stem}_xdr.c`),
          "-ltirpc",
        ],
        { cwd: dir },
      );
    } catch (e) {
      throw new Error(`gcc failed on the C peer for ${options.xFile}:\n${stderrOf(e)}`);
    }
    child = spawn(exe, [], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return new Peer(child, dir, options.types, options.xFile, options.producers ?? []);
}

async function rpcgen(cwd: string, args: string[]): Promise<void> {
  try {
    await run("rpcgen", args, { cwd });
  } catch (e) {
    throw new Error(`rpcgen ${args.join(" ")} failed:\n${stderrOf(e)}`);
  }
}

function stderrOf(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return err.stderr || err.message || String(e);
}

interface Pending {
  resolve(reply: CXdrReply): void;
  reject(error: Error): void;
}

class Peer implements CXdrPeer {
  readonly types: readonly string[];
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #dir: string;
  readonly #xFile: string;
  readonly #index = new Map<string, number>();
  readonly #producers = new Map<string, number>();
  readonly #pending: Pending[] = [];
  #head = 0;
  #input: Buffer = Buffer.alloc(0);
  #stderr = "";
  #failure: Error | null = null;
  #closed: Promise<void> | null = null;

  constructor(
    child: ChildProcessWithoutNullStreams,
    dir: string,
    types: readonly string[],
    xFile: string,
    producers: readonly CProducer[],
  ) {
    this.#child = child;
    this.#dir = dir;
    this.#xFile = xFile;
    this.types = [...types];
    for (const [i, t] of types.entries()) this.#index.set(t, i);
    for (const [i, p] of producers.entries()) this.#producers.set(p.name, i);
    child.stdout.on("data", (chunk: Buffer) => this.#onData(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString("utf8")).slice(-4000);
    });
    // A broken pipe is reported through 'exit'; without a listener it would be an uncaught error.
    child.stdin.on("error", () => {});
    child.on("error", (e) => this.#fail(new Error(`C peer for ${xFile}: ${e.message}`)));
    child.on("exit", (code, signal) => {
      if (this.#closed === null || this.#head < this.#pending.length) {
        this.#fail(
          new Error(
            `C peer for ${xFile} exited (code ${code}, signal ${signal}) with ` +
              `${this.#pending.length - this.#head} requests unanswered. stderr:\n${this.#stderr}`,
          ),
        );
      }
    });
  }

  roundTrip(type: string, bytes: Uint8Array): Promise<CXdrReply> {
    const index = this.#index.get(type);
    if (index === undefined)
      return Promise.reject(new Error(`the C peer for ${this.#xFile} does not serve '${type}'`));
    return this.#request(index, bytes);
  }

  produce(name: string): Promise<CXdrReply> {
    const index = this.#producers.get(name);
    if (index === undefined)
      return Promise.reject(new Error(`the C peer for ${this.#xFile} has no producer '${name}'`));
    return this.#request((PRODUCE_BIT | index) >>> 0, new Uint8Array(0));
  }

  #request(index: number, bytes: Uint8Array): Promise<CXdrReply> {
    if (bytes.length > MAX_REQUEST_BYTES)
      return Promise.reject(new Error(`request of ${bytes.length} bytes too large`));
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#closed !== null) return Promise.reject(new Error("the C peer is closed"));
    const header = Buffer.alloc(8);
    header.writeUInt32BE(index, 0);
    header.writeUInt32BE(bytes.length, 4);
    return new Promise<CXdrReply>((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.#child.stdin.write(header);
      if (bytes.length > 0) this.#child.stdin.write(bytes);
    });
  }

  roundTripAll(type: string, inputs: readonly Uint8Array[]): Promise<CXdrReply[]> {
    return Promise.all(inputs.map((b) => this.roundTrip(type, b)));
  }

  close(): Promise<void> {
    if (this.#closed === null) {
      this.#closed = (async () => {
        const child = this.#child;
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
          child.stdin.end();
          const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
          await exited;
          clearTimeout(timer);
        }
        this.#fail(new Error("the C peer is closed"));
        await rm(this.#dir, { recursive: true, force: true });
      })();
    }
    return this.#closed;
  }

  #onData(chunk: Buffer): void {
    this.#input = this.#input.length === 0 ? chunk : Buffer.concat([this.#input, chunk]);
    let pos = 0;
    while (this.#input.length - pos >= 8) {
      const status = this.#input.readUInt32BE(pos);
      const length = this.#input.readUInt32BE(pos + 4);
      if (this.#input.length - pos - 8 < length) break;
      const bytes = new Uint8Array(this.#input.subarray(pos + 8, pos + 8 + length));
      pos += 8 + length;
      const waiter = this.#pending[this.#head];
      if (waiter === undefined) {
        this.#fail(new Error(`C peer for ${this.#xFile} answered a request that was not made`));
        return;
      }
      this.#head++;
      if (status > 3) waiter.reject(new Error(`C peer answered with unknown status ${status}`));
      else waiter.resolve({ status: status as CXdrStatus, bytes });
    }
    this.#input = this.#input.subarray(pos);
    if (this.#head === this.#pending.length) {
      this.#pending.length = 0;
      this.#head = 0;
    }
  }

  #fail(error: Error): void {
    if (this.#failure === null) this.#failure = error;
    for (let i = this.#head; i < this.#pending.length; i++) this.#pending[i].reject(error);
    this.#pending.length = 0;
    this.#head = 0;
  }
}

/**
 * The C driver. rpcgen gives every type a C name equal to its .x name and
 * an `xdr_<name>(XDR *, <name> *)` routine (for a fixed opaque typedef, the
 * parameter is the array itself, which is the same pointer). The object is
 * zeroed before decoding, as xdr routines allocate only where a pointer is
 * NULL, and freed with xdr_free after, whether decoding worked or not.
 */
function driverSource(
  header: string,
  types: readonly string[],
  cTypeNames: Readonly<Record<string, string>>,
  producers: readonly CProducer[],
): string {
  const cType = (t: string) => cTypeNames[t] ?? t;
  const producerFunctions = producers
    .map(
      (p, i) =>
        `/* producer ${p.name} */\nstatic void once_produce_${i}(${cType(p.type)} *v) {\n${p.body}\n}`,
    )
    .join("\n\n");
  const producerTable = producers
    .map(
      (p, i) =>
        `  { (once_produce_fn) once_produce_${i}, &once_types[${types.indexOf(p.type)}], ${JSON.stringify(p.name)} },`,
    )
    .join("\n");
  const table = types
    .map((t) => `  { (once_xdr_fn) xdr_${t}, sizeof(${cType(t)}), ${JSON.stringify(t)} },`)
    .join("\n");
  return `/* C XDR peer generated by test/support/c-xdr-harness.ts. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rpc/rpc.h>
#include "${header}"

typedef bool_t (*once_xdr_fn)(XDR *, void *);

struct once_type { once_xdr_fn fn; size_t size; const char *type_name; };

static const struct once_type once_types[] = {
${table}
};
#define ONCE_NTYPES (sizeof once_types / sizeof once_types[0])

typedef void (*once_produce_fn)(void *);
struct once_producer { once_produce_fn fill; const struct once_type *t; const char *producer_name; };

${producerFunctions}

static const struct once_producer once_producers[] = {
${producerTable}
  { NULL, NULL, NULL }
};
#define ONCE_NPRODUCERS (sizeof once_producers / sizeof once_producers[0] - 1)
#define ONCE_MAX_REQUEST ${MAX_REQUEST_BYTES}u

static unsigned char *once_in;
static size_t once_in_cap, once_in_len, once_in_pos;

/* Makes at least need bytes available from stdin; flushes stdout before it blocks, so answers go out in batches. */
static int once_fill(size_t need) {
  if (once_in_len - once_in_pos >= need) return 1;
  if (once_in_pos > 0) {
    memmove(once_in, once_in + once_in_pos, once_in_len - once_in_pos);
    once_in_len -= once_in_pos;
    once_in_pos = 0;
  }
  if (need > once_in_cap) {
    size_t cap = once_in_cap * 2 > need ? once_in_cap * 2 : need;
    unsigned char *p = realloc(once_in, cap);
    if (p == NULL) { perror("realloc"); exit(3); }
    once_in = p;
    once_in_cap = cap;
  }
  fflush(stdout);
  while (once_in_len < need) {
    ssize_t n = read(0, once_in + once_in_len, once_in_cap - once_in_len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { perror("read"); exit(3); }
    if (n == 0) return 0;
    once_in_len += (size_t) n;
  }
  return 1;
}

static uint32_t once_get_u32(const unsigned char *p) {
  return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

static void once_put_u32(uint32_t v) {
  unsigned char b[4] = { (unsigned char) (v >> 24), (unsigned char) (v >> 16), (unsigned char) (v >> 8), (unsigned char) v };
  fwrite(b, 1, 4, stdout);
}

static void once_reply(uint32_t status, const void *data, uint32_t len) {
  once_put_u32(status);
  once_put_u32(len);
  if (len > 0) fwrite(data, 1, len, stdout);
}

static void once_handle(const struct once_type *t, unsigned char *data, uint32_t len) {
  void *obj = calloc(1, t->size);
  XDR x;
  if (obj == NULL) { perror("calloc"); exit(3); }
  xdrmem_create(&x, (char *) data, len, XDR_DECODE);
  if (!t->fn(&x, obj)) {
    xdr_free((xdrproc_t) t->fn, (char *) obj);
    free(obj);
    once_reply(1, NULL, 0);
    return;
  }
  {
    uint32_t status = xdr_getpos(&x) == len ? 0 : 3;
    unsigned long size = xdr_sizeof((xdrproc_t) t->fn, obj);
    size_t cap = (size > len ? size : len) + 16;
    char *out = malloc(cap);
    XDR w;
    if (out == NULL) { perror("malloc"); exit(3); }
    xdrmem_create(&w, out, (u_int) cap, XDR_ENCODE);
    if (!t->fn(&w, obj)) once_reply(2, NULL, 0);
    else once_reply(status, out, xdr_getpos(&w));
    xdr_destroy(&w);
    free(out);
  }
  xdr_destroy(&x);
  xdr_free((xdrproc_t) t->fn, (char *) obj);
  free(obj);
}

/* Encodes a value that C code built; it points at static data, so it is not freed with xdr_free. */
static void once_produce(const struct once_producer *p) {
  void *obj = calloc(1, p->t->size);
  unsigned long size;
  char *out;
  XDR w;
  if (obj == NULL) { perror("calloc"); exit(3); }
  p->fill(obj);
  size = xdr_sizeof((xdrproc_t) p->t->fn, obj) + 16;
  out = malloc(size);
  if (out == NULL) { perror("malloc"); exit(3); }
  xdrmem_create(&w, out, (u_int) size, XDR_ENCODE);
  if (!p->t->fn(&w, obj)) once_reply(2, NULL, 0);
  else once_reply(0, out, xdr_getpos(&w));
  xdr_destroy(&w);
  free(out);
  free(obj);
}

int main(void) {
  static char out_buf[1 << 16];
  setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
  for (;;) {
    uint32_t index, len;
    unsigned char *data;
    if (!once_fill(8)) break;
    index = once_get_u32(once_in + once_in_pos);
    len = once_get_u32(once_in + once_in_pos + 4);
    once_in_pos += 8;
    if (index & 0x80000000u) {
      index &= 0x7fffffffu;
      if (index >= ONCE_NPRODUCERS) { fprintf(stderr, "producer index %u out of range\\n", index); return 2; }
      if (len != 0) { fprintf(stderr, "a producer request carries no bytes\\n"); return 2; }
      once_produce(&once_producers[index]);
      continue;
    }
    if (index >= ONCE_NTYPES) { fprintf(stderr, "type index %u out of range\\n", index); return 2; }
    if (len > ONCE_MAX_REQUEST) { fprintf(stderr, "request of %u bytes too large\\n", len); return 2; }
    if (!once_fill(len)) { fprintf(stderr, "stdin ended inside a request\\n"); return 2; }
    data = once_in + once_in_pos;
    once_in_pos += len;
    once_handle(&once_types[index], data, len);
  }
  fflush(stdout);
  return 0;
}
`;
}
