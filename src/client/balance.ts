/**
 * Choosing one of several servers of a program version for each call.
 * Policies see the endpoints that are up with their calls in flight, and
 * return an index; they keep whatever state they need (a cursor).
 */
import type { Endpoint } from "./resolver.js";

/** What a policy knows of one candidate. */
export interface Candidate {
  readonly endpoint: Endpoint;
  /** Calls sent to it and not yet answered. */
  readonly callsInFlight: number;
}

/** Picks the candidate for the next call: an index into `candidates`, which is never empty. */
export interface BalancePolicy {
  pick(candidates: readonly Candidate[]): number;
}

/** The policies by name. */
export type BalancePolicyName = "round-robin" | "least-in-flight" | "power-of-two";

/** Each candidate in turn. */
export function roundRobin(): BalancePolicy {
  let next = 0;
  return {
    pick(candidates) {
      const i = next % candidates.length;
      next = (i + 1) % 0x4000_0000;
      return i;
    },
  };
}

/**
 * The candidate with the fewest calls in flight; ties go round the list, so
 * that an idle set of servers still shares calls one at a time.
 */
export function leastInFlight(): BalancePolicy {
  let start = 0;
  return {
    pick(candidates) {
      const n = candidates.length;
      const first = start % n;
      start = (first + 1) % 0x4000_0000;
      let best = first;
      for (let k = 1; k < n; k++) {
        const i = (first + k) % n;
        if (candidates[i].callsInFlight < candidates[best].callsInFlight) best = i;
      }
      return best;
    },
  };
}

/**
 * Two candidates at random, the one with fewer calls in flight (Mitzenmacher's
 * "power of two choices"): nearly the balance of least-in-flight without
 * every client herding onto the same least-loaded server.
 */
export function powerOfTwo(random: () => number = Math.random): BalancePolicy {
  return {
    pick(candidates) {
      const n = candidates.length;
      if (n === 1) return 0;
      const a = Math.floor(random() * n);
      let b = Math.floor(random() * (n - 1));
      if (b >= a) b++;
      return candidates[b].callsInFlight < candidates[a].callsInFlight ? b : a;
    },
  };
}

/** A policy from its name, or the policy itself. */
export function balancePolicy(policy: BalancePolicyName | BalancePolicy | undefined): BalancePolicy {
  if (policy === undefined || policy === "round-robin") return roundRobin();
  if (policy === "least-in-flight") return leastInFlight();
  if (policy === "power-of-two") return powerOfTwo();
  if (typeof policy === "object" && typeof policy.pick === "function") return policy;
  throw new TypeError(`unknown balance policy ${JSON.stringify(policy)}`);
}
