/**
 * Hand-built ONC RPC messages and a raw TCP peer, for tests that send what a
 * well-behaved client never would.
 */
import { connect, type Socket } from "node:net";
import { RecordDecoder, XdrWriter } from "once-rpc";

/** The fields of a call header, each overridable. */
export interface RawCall {
  xid?: number;
  rpcVersion?: number;
  program: number;
  version: number;
  procedure: number;
  credFlavor?: number;
  credBody?: Uint8Array;
  /** The argument bytes, already XDR. */
  args?: Uint8Array;
}

/** The XDR of a call message (no record mark). */
export function encodeRawCall(call: RawCall): Uint8Array {
  const w = new XdrWriter();
  w.writeUnsignedInt(call.xid ?? 1);
  w.writeUnsignedInt(0);
  w.writeUnsignedInt(call.rpcVersion ?? 2);
  w.writeUnsignedInt(call.program);
  w.writeUnsignedInt(call.version);
  w.writeUnsignedInt(call.procedure);
  w.writeUnsignedInt(call.credFlavor ?? 0);
  w.writeVariableOpaque(call.credBody ?? new Uint8Array(0));
  w.writeUnsignedInt(0);
  w.writeUnsignedInt(0);
  if (call.args) w.writeFixedOpaque(call.args, call.args.length);
  return w.bytes();
}

/** A message behind a last-fragment record mark. */
export function frame(message: Uint8Array): Buffer {
  const mark = Buffer.alloc(4);
  mark.writeUInt32BE((0x8000_0000 | message.length) >>> 0);
  return Buffer.concat([mark, message]);
}

/** The 32-bit big-endian words of a message, for asserting on replies. */
export function words(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length >> 2 }, (_, i) => view.getUint32(i * 4));
}

/** A raw TCP connection that collects the records it receives and notices when it is closed. */
export class RawStreamPeer {
  readonly socket: Socket;
  readonly records: Uint8Array[] = [];
  closed = false;
  #waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    const decoder = new RecordDecoder(1 << 24, (r) => {
      this.records.push(r.slice());
      this.#wake();
    });
    socket.on("data", (chunk) => decoder.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
  }

  static open(port: number): Promise<RawStreamPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port }, () => resolve(new RawStreamPeer(socket)));
      socket.once("error", reject);
    });
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Waits until `n` records have arrived or the connection closed. */
  async waitFor(n: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.records.length < n && !this.closed) {
      if (Date.now() > deadline)
        throw new Error(`waited ${timeoutMs} ms for ${n} records, got ${this.records.length}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Waits until the server closes the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`the connection stayed open for ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
