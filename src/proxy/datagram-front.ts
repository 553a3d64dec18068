/**
 * The UDP half of the proxy. Each client (address and port) gets its own
 * upstream socket, so the target sees one peer per client and its replies go
 * back to the client that asked; each datagram is one message for the faults.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { isIP, isIPv6 } from "node:net";
import type { InetAddress } from "../transport/index.js";
import type { Front, ProxyCore } from "./front.js";
import { Lane } from "./lane.js";

/** Binds `listen`; each client's datagrams are relayed to `target`. */
export async function listenDatagramFront(
  core: ProxyCore,
  listen: InetAddress,
  target: InetAddress,
): Promise<Front> {
  // Resolved once: a name would otherwise be looked up for every datagram.
  const host = isIP(target.host) ? target.host : (await lookup(target.host)).address;
  const socket = createSocket({ type: isIPv6(listen.host) ? "udp6" : "udp4" });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(listen.port, listen.host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  // Send errors (an unreachable client) concern one datagram, never the proxy.
  socket.on("error", ignore);
  const address: InetAddress = { protocol: "udp", host: listen.host, port: socket.address().port };
  return new DatagramFront(core, socket, address, { ...target, host });
}

class DatagramFront implements Front {
  readonly address: InetAddress;
  readonly #core: ProxyCore;
  readonly #target: InetAddress;
  readonly #socket: Socket;
  readonly #flows = new Map<string, DatagramFlow>();
  readonly #sweep: NodeJS.Timeout;

  constructor(core: ProxyCore, socket: Socket, address: InetAddress, target: InetAddress) {
    this.address = address;
    this.#core = core;
    this.#socket = socket;
    this.#target = target;
    socket.on("message", (bytes: Buffer, from: RemoteInfo) => this.#request(bytes, from));
    // Coarse idle detection: a flow with no datagram between two sweeps is closed.
    this.#sweep = setInterval(() => this.#closeIdle(), core.flowIdleMs).unref();
  }

  get open(): number {
    return this.#flows.size;
  }

  cut(): void {
    for (const flow of this.#flows.values()) flow.close();
    this.#flows.clear();
  }

  close(): Promise<void> {
    clearInterval(this.#sweep);
    this.cut();
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  #request(bytes: Buffer, from: RemoteInfo): void {
    const key = `${from.address}:${from.port}`;
    let flow = this.#flows.get(key);
    if (flow === undefined) {
      flow = new DatagramFlow(this.#core, this.#socket, from, this.#target);
      this.#flows.set(key, flow);
      this.#core.flows++;
    }
    flow.active = true;
    flow.requests.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  }

  #closeIdle(): void {
    for (const [key, flow] of this.#flows) {
      if (flow.active || flow.requests.pending + flow.replies.pending > 0) {
        flow.active = false;
        continue;
      }
      flow.close();
      this.#flows.delete(key);
    }
  }
}

/** One client: its upstream socket and the two lanes. */
class DatagramFlow {
  readonly requests: Lane;
  readonly replies: Lane;
  /** A datagram passed since the last sweep. */
  active = true;
  readonly #upstream: Socket;

  constructor(core: ProxyCore, listener: Socket, client: RemoteInfo, target: InetAddress) {
    const upstream = createSocket({ type: isIPv6(target.host) ? "udp6" : "udp4" });
    this.#upstream = upstream;
    // An ICMP unreachable from the target surfaces here; the client's retransmissions deal with it.
    upstream.on("error", ignore);
    const clientPort = client.port;
    const clientHost = client.address;
    const targetPort = target.port;
    const targetHost = target.host;
    // The socket binds an ephemeral port on its first send.
    this.requests = new Lane(
      core.request,
      (bytes) => upstream.send(bytes, targetPort, targetHost),
      core.lane,
    );
    this.replies = new Lane(core.reply, (bytes) => listener.send(bytes, clientPort, clientHost), core.lane);
    const replies = this.replies;
    upstream.on("message", (bytes: Buffer) => {
      this.active = true;
      replies.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    });
  }

  close(): void {
    this.requests.close();
    this.replies.close();
    try {
      this.#upstream.close();
    } catch {
      // Already closed.
    }
  }
}

function ignore(): void {}
