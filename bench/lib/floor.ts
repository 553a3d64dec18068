/**
 * The floor of the RPC benchmark: raw `node:net` with a 4-byte length prefix.
 * The client writes a message that is ready-made (no encoding) and the server
 * writes every whole frame back as it came (no decoding, no dispatch). Both
 * do what an RPC on Node cannot avoid, and in the cheapest way we know:
 * writes of one tick batched into one vectored write (cork, uncork on the
 * next tick) on the client, the frames of one read echoed by one write on the
 * server, and replies matched to calls in order (the server answers in order),
 * with no xid, no table and no timer. What once-rpc adds on top (XDR, the
 * RPC header, xids, deadlines, dispatch) is the difference from this row.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

const PREFIX_BYTES = 4;

/** Splits a byte stream into frames of a 4-byte big-endian length and that many bytes. */
export class LengthPrefixedFramer {
  readonly #onFrames: (bytes: Buffer, frames: number) => void;
  #chunks: Buffer[] = [];
  #buffered = 0;

  /**
   * `onFrames` gets whole frames, prefixes included: `frames` of them
   * back to back in `bytes` (a view of what was read when they came in one
   * read, a copy when a frame spanned reads).
   */
  constructor(onFrames: (bytes: Buffer, frames: number) => void) {
    this.#onFrames = onFrames;
  }

  push(chunk: Buffer): void {
    if (this.#buffered > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered < PREFIX_BYTES) return;
      const head = this.#chunks[0].length >= PREFIX_BYTES ? this.#chunks[0] : Buffer.concat(this.#chunks);
      if (this.#buffered < PREFIX_BYTES + head.readUInt32BE(0)) return;
      chunk = Buffer.concat(this.#chunks, this.#buffered);
      this.#chunks = [];
      this.#buffered = 0;
    }
    let end = 0;
    let frames = 0;
    while (end + PREFIX_BYTES <= chunk.length) {
      const next = end + PREFIX_BYTES + chunk.readUInt32BE(end);
      if (next > chunk.length) break;
      end = next;
      frames++;
    }
    if (frames > 0) this.#onFrames(end === chunk.length ? chunk : chunk.subarray(0, end), frames);
    if (end < chunk.length) {
      this.#chunks.push(chunk.subarray(end));
      this.#buffered = chunk.length - end;
    }
  }
}

/** The echo server of the floor, listening on 127.0.0.1. */
export async function startFloorServer(): Promise<{ server: Server; port: number }> {
  const server = createServer({ noDelay: true }, (socket) => {
    const framer = new LengthPrefixedFramer((bytes) => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => framer.push(chunk));
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the floor server has no port");
  return { server, port: address.port };
}

/** The client of the floor: `call(frame)` writes a ready-made frame and resolves with the echo. */
export class FloorClient {
  readonly #socket: Socket;
  /** Callers waiting for a reply, oldest first; `#head` is the next to answer. */
  #waiting: Array<(reply: Buffer) => void> = [];
  #head = 0;
  #corked = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    const framer = new LengthPrefixedFramer((bytes, frames) => this.#onFrames(bytes, frames));
    socket.on("data", (chunk: Buffer) => framer.push(chunk));
  }

  /** Connects to the floor server on 127.0.0.1. */
  static connect(port: number): Promise<FloorClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", noDelay: true });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new FloorClient(socket));
      });
    });
  }

  /** Sends `frame` (its 4-byte length prefix included) and resolves with the frame echoed. */
  call(frame: Uint8Array): Promise<Buffer> {
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(uncork, this);
    }
    this.#socket.write(frame);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** @internal the end of the tick: one vectored write for everything written in it. */
  flush(): void {
    this.#corked = false;
    this.#socket.uncork();
  }

  close(): void {
    this.#socket.destroy();
  }

  #onFrames(bytes: Buffer, frames: number): void {
    let at = 0;
    for (let i = 0; i < frames; i++) {
      const end = at + PREFIX_BYTES + bytes.readUInt32BE(at);
      const resolve = this.#waiting[this.#head++];
      resolve(bytes.subarray(at, end));
      at = end;
    }
    // Drop answered callers now and then rather than shifting the array on every reply.
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
  }
}

function uncork(client: FloorClient): void {
  client.flush();
}
