/**
 * The floor of the RPC benchmark: raw `node:net` with a 4-byte length prefix.
 * The client writes a message that is ready-made (no encoding) and the server
 * writes every whole frame back as it came (no decoding, no dispatch). Both
 * do what an RPC on Node cannot avoid, and in the cheapest way we know:
 * writes of one tick batched into one vectored write (cork, uncork on the
 * next tick) on the client, the frames of one read echoed by one vectored
 * write on the server, a frame copied only when it spans reads, and replies
 * matched to calls in order (the server answers in order), with no xid, no
 * table and no timer. What once-rpc adds on top (XDR, the
 * RPC header, xids, deadlines, dispatch) is the difference from this row.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

const PREFIX_BYTES = 4;

/**
 * Splits a byte stream into frames of a 4-byte big-endian length and that
 * many bytes. Frames inside one read come as one view of it; a frame spread
 * over reads is copied once, its own bytes only (as once-rpc's record
 * decoder does).
 */
export class LengthPrefixedFramer {
  readonly #onFrames: (frames: Buffer, count: number) => void;
  /** Pieces of the frame being reassembled, its prefix first. */
  #pieces: Buffer[] = [];
  #have = 0;
  /** Bytes of the frame being reassembled, prefix included; 0 while its prefix is incomplete. */
  #need = 0;

  /** `onFrames` gets whole frames, prefixes included: `count` of them back to back. */
  constructor(onFrames: (frames: Buffer, count: number) => void) {
    this.#onFrames = onFrames;
  }

  push(chunk: Buffer): void {
    let p = 0;
    const n = chunk.length;
    if (this.#have > 0) {
      if (this.#need === 0) {
        // The prefix itself was split: gather its four bytes first.
        const head = Buffer.concat([...this.#pieces, chunk.subarray(0, PREFIX_BYTES - this.#have)]);
        if (head.length < PREFIX_BYTES) {
          this.#pieces = [head];
          this.#have = head.length;
          return;
        }
        this.#need = PREFIX_BYTES + head.readUInt32BE(0);
        p = PREFIX_BYTES - this.#have;
        this.#pieces = [head];
        this.#have = PREFIX_BYTES;
      }
      const take = Math.min(this.#need - this.#have, n - p);
      this.#pieces.push(chunk.subarray(p, p + take));
      this.#have += take;
      p += take;
      if (this.#have < this.#need) return;
      const frame = Buffer.concat(this.#pieces, this.#need);
      this.#pieces = [];
      this.#have = 0;
      this.#need = 0;
      this.#onFrames(frame, 1);
    }
    const start = p;
    let count = 0;
    while (p + PREFIX_BYTES <= n) {
      const end = p + PREFIX_BYTES + chunk.readUInt32BE(p);
      if (end > n) break;
      count++;
      p = end;
    }
    if (count > 0) this.#onFrames(start === 0 && p === n ? chunk : chunk.subarray(start, p), count);
    if (p < n) {
      this.#pieces.push(chunk.subarray(p));
      this.#have = n - p;
      this.#need = this.#have >= PREFIX_BYTES ? PREFIX_BYTES + chunk.readUInt32BE(p) : 0;
    }
  }
}

/** The echo server of the floor, listening on 127.0.0.1. */
export async function startFloorServer(): Promise<{ server: Server; port: number }> {
  const server = createServer({ noDelay: true }, (socket) => {
    const framer = new LengthPrefixedFramer((frames) => socket.write(frames));
    // Whatever one read completes goes back in one vectored write.
    socket.on("data", (chunk: Buffer) => {
      socket.cork();
      framer.push(chunk);
      socket.uncork();
    });
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
    const framer = new LengthPrefixedFramer((frames, count) => this.#onFrames(frames, count));
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

  #onFrames(frames: Buffer, count: number): void {
    let at = 0;
    for (let i = 0; i < count; i++) {
      const end = at + PREFIX_BYTES + frames.readUInt32BE(at);
      const resolve = this.#waiting[this.#head++];
      resolve(frames.subarray(at, end));
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
