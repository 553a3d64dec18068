/** Markdown tables and the line that says where a run happened. */
import { cpus } from "node:os";

/** A markdown table with columns padded to line up in a terminal too. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  alignRight: readonly boolean[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length), 3));
  const cell = (text: string, i: number) =>
    alignRight[i] ? text.padStart(widths[i]) : text.padEnd(widths[i]);
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (alignRight[i] ? "-".repeat(w + 1) + ":" : ":" + "-".repeat(w + 1))).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/** `1 234 567` style grouping, readable in any locale. */
export function grouped(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

/** Node version, CPU model and count, and the date and time of the run. */
export function machineLine(): string {
  const list = cpus();
  const model = list[0]?.model.trim().replace(/\s+/g, " ") ?? "unknown CPU";
  return `node ${process.version} (V8 ${process.versions.v8}), ${model} × ${list.length}, ${process.platform}/${process.arch}, ${new Date().toISOString()}`;
}
