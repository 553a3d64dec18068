/**
 * rup in TypeScript: a client of rpc.rstatd, the kernel statistics service
 * of Sun's rstat protocol (RSTATPROG, 100001), from the interface that
 * Debian ships in /usr/include/rpcsvc/rstat.x.
 *
 * Usage: node dist/examples/rstat/rup.js [HOST]     (default 127.0.0.1)
 *
 * Asks the portmapper on HOST (port 111; RFC 1833 PMAPPROC_GETPORT) where
 * RSTATPROG version 3 listens over UDP, calls RSTATPROC_STATS and
 * RSTATPROC_HAVEDISK there, and prints the statistics. When a call fails,
 * prints the error (its code first) on stderr and exits with 1.
 */
import { createClient, RpcError } from "once-rpc";
import { PmapProgV2, pmapProt } from "once-rpc/binder";
import { RSTATPROG, RSTATVERS_TIME, RstatprogV3, type Statstime } from "./gen/rstat.js";

/** Load averages come scaled by FSCALE (rstat.x defines it for C only, in a %#define: 1 << 8). */
const FSCALE = 1 << 8;

/** The order of cp_time[CPUSTATES], as in BSD's <sys/dkstat.h>: CP_USER, CP_NICE, CP_SYS, CP_IDLE. */
const CPU_STATES = ["user", "nice", "system", "idle"] as const;

/** `3 days, 4:05` as uptime(1) prints it. */
function formatUptime(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const clock = hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}` : `${minutes} min`;
  return days > 0 ? `${days} day${days === 1 ? "" : "s"}, ${clock}` : clock;
}

/** The statistics, one topic a line. */
function formatStats(s: Statstime, haveDisk: number): string[] {
  const total = s.cp_time.reduce((a, b) => a + b, 0) || 1;
  const cpu = CPU_STATES.map((name, i) => `${name} ${((100 * s.cp_time[i]) / total).toFixed(1)}%`);
  const boot = new Date(s.boottime.tv_sec * 1000);
  const now = new Date(s.curtime.tv_sec * 1000 + Math.floor(s.curtime.tv_usec / 1000));
  return [
    `up ${formatUptime(s.curtime.tv_sec - s.boottime.tv_sec)}, ` +
      `load average ${s.avenrun.map((v) => (v / FSCALE).toFixed(2)).join(", ")}`,
    `cpu        ${cpu.join("  ")}  (of the time since boot)`,
    `memory     pages in ${s.v_pgpgin}, out ${s.v_pgpgout}; swapped in ${s.v_pswpin}, out ${s.v_pswpout}`,
    `kernel     interrupts ${s.v_intr}, context switches ${s.v_swtch}`,
    `network    packets in ${s.if_ipackets}, out ${s.if_opackets}; errors in ${s.if_ierrors}, ` +
      `out ${s.if_oerrors}; collisions ${s.if_collisions}  (loopback not counted)`,
    `disks      ${haveDisk ? `transfers ${s.dk_xfer.join(", ")}` : "none reported"}`,
    `clock      booted ${boot.toISOString()}, now ${now.toISOString()} (the server's clock)`,
  ];
}

const host = process.argv[2] ?? "127.0.0.1";
const portmapper = createClient(PmapProgV2, `udp://${host}:111`, { timeoutMs: 5000 });
try {
  // The portmapper answers 0 for a program it does not know.
  const port = await portmapper.getport({
    prog: RSTATPROG,
    vers: RSTATVERS_TIME,
    prot: pmapProt.IPPROTO_UDP,
    port: 0,
  });
  if (port === 0) {
    console.error(
      `rup: ${host}: RSTATPROG ${RSTATVERS_TIME} is not registered with the portmapper (is rpc.rstatd running?)`,
    );
    process.exitCode = 1;
  } else {
    const rstat = createClient(RstatprogV3, `udp://${host}:${port}`, { timeoutMs: 5000 });
    try {
      const [stats, haveDisk] = await Promise.all([rstat.stats(), rstat.havedisk()]);
      console.log(`rpc.rstatd on ${host} (RSTATPROG v3 on udp port ${port}, found through the portmapper)`);
      for (const line of formatStats(stats, haveDisk)) console.log(`  ${line}`);
    } finally {
      await rstat.$close();
    }
  }
} catch (e) {
  if (!(e instanceof RpcError)) throw e;
  console.error(`rup: ${host}: ${e.message}`);
  process.exitCode = 1;
} finally {
  await portmapper.$close();
}
