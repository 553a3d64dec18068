/**
 * A byte-stream socket (TCP or Unix) carrying ONC RPC records, shared by the
 * client and server ends: reads are reassembled into records, writes are
 * framed and batched per tick into one vectored write.
 */
import type { Socket } from "node:net";
import { RpcError } from "../rpc/index.js";
import { frameRecord, RECORD_MARK_BYTES, RecordDecoder } from "./record-marking.js";
import type { TransportEvents } from "./transport.js";

/** Limits of a record stream. */
export interface RecordStreamOptions {
  /** Largest record accepted from the peer. */
  readonly maxRecordBytes: number;
  /** Largest fragment written; longer messages are sent as several fragments. */
  readonly maxFragmentBytes: number;
}

const NO_EVENTS: TransportEvents = { message() {}, closed() {} };

/** Framing and batching over one connected socket. */
export class RecordStream {
  readonly socket: Socket;
  readonly #decoder: RecordDecoder;
  readonly #maxFragmentBytes: number;
  #events: TransportEvents = NO_EVENTS;
  #corked = false;
  #closed = false;
  /** Why the stream ended, when we ended it (an oversized record, a destroy). */
  #reason: RpcError | undefined;

  constructor(socket: Socket, options: RecordStreamOptions) {
    this.socket = socket;
    this.#maxFragmentBytes = options.maxFragmentBytes;
    this.#decoder = new RecordDecoder(options.maxRecordBytes, (record) => this.#events.message(record));
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (error: Error) => this.#finish(closedError(error)));
    socket.on("close", () =>
      this.#finish(new RpcError("CONNECTION_CLOSED", "the peer closed the connection")),
    );
  }

  setEvents(events: TransportEvents): void {
    this.#events = events;
  }

  /** True while the socket's write buffer is over its high-water mark. */
  get sendBlocked(): boolean {
    return this.socket.writableNeedDrain;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Frames and queues one message (its first RECORD_MARK_BYTES are headroom); flushed at the end of the tick. */
  send(chunks: Uint8Array[], length: number): void {
    if (this.#closed) return;
    const framed = frameRecord(chunks, length, this.#maxFragmentBytes);
    const socket = this.socket;
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(uncork, this);
    }
    for (let i = 0; i < framed.length; i++) socket.write(framed[i]);
  }

  /** @internal the end of the tick: one vectored write for everything queued in it. */
  flush(): void {
    this.#corked = false;
    this.socket.uncork();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Ends the stream after the queued writes. */
  end(): void {
    if (this.#corked) this.flush();
    this.socket.end();
  }

  /** Ends the stream now; `reason` is what the owner hears. */
  destroy(reason: RpcError): void {
    this.#reason ??= reason;
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    try {
      // A plain Uint8Array view: decoded opaque data is then the same type over every transport.
      this.#decoder.push(plain(chunk));
    } catch (error) {
      // An oversized record or a failing handler: the stream cannot go on, the process can.
      this.destroy(
        error instanceof RpcError
          ? error
          : new RpcError("CONNECTION_CLOSED", "message handling failed", { cause: error }),
      );
    }
  }

  #finish(error: RpcError): void {
    if (this.#closed) return;
    this.#closed = true;
    const events = this.#events;
    this.#events = NO_EVENTS;
    events.closed(this.#reason ?? error);
  }
}

function uncork(stream: RecordStream): void {
  stream.flush();
}

function closedError(error: Error): RpcError {
  const code = (error as NodeJS.ErrnoException).code;
  return new RpcError(
    "CONNECTION_CLOSED",
    `the connection failed${code ? ` (${code})` : ""}: ${error.message}`,
    {
      cause: error,
    },
  );
}

/** Bytes of headroom a record stream needs in front of each message. */
export const STREAM_HEADROOM_BYTES = RECORD_MARK_BYTES;

/** A Buffer seen as a plain Uint8Array (no copy), so decoded opaque data is never a Buffer. */
export function plain(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
