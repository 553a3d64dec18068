/**
 * What the TCP and UDP halves of the proxy share: the per-direction state,
 * the lanes' limits, and the face each shows to createProxy.
 */
import type { InetAddress } from "../transport/index.js";
import type { DirectionState, LaneOptions } from "./lane.js";

/** The state every flow of one proxy reads. */
export interface ProxyCore {
  readonly request: DirectionState;
  readonly reply: DirectionState;
  readonly lane: LaneOptions;
  /** Largest record accepted over TCP. */
  readonly maxRecordBytes: number;
  /** UDP: a client's upstream socket is closed after this long without a datagram either way. */
  readonly flowIdleMs: number;
  /** Flows opened so far (TCP connections accepted, UDP clients seen). */
  flows: number;
  /** Times cut() was called. */
  cuts: number;
}

/** One listening half: TCP (records) or UDP (datagrams). */
export interface Front {
  /** Where clients reach the proxy, the port chosen when 0 was asked for. */
  readonly address: InetAddress;
  /** Flows open now. */
  readonly open: number;
  /** Closes every flow at once, discarding what is held or delayed; listening goes on. */
  cut(): void;
  /** Stops listening and closes every flow. */
  close(): Promise<void>;
}
