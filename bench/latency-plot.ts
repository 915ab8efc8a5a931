/**
 * Latency against offered load as a standalone SVG, one line per contender: x is the fixed rate
 * asked of the load generator, y the p99 latency on a log scale (peers differ by orders of
 * magnitude). A point the contender could not keep up with is drawn hollow.
 */

export interface PlotSeries {
  name: string;
  points: { rate: number; p50Ms: number; p99Ms: number; saturated: boolean }[];
}

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { left: 70, right: 170, top: 40, bottom: 50 };
const COLOURS = ["#555555", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");

export function latencyPlot(title: string, series: PlotSeries[]): string {
  const rates = [...new Set(series.flatMap((s) => s.points.map((p) => p.rate)))].sort((a, b) => a - b);
  const values = series.flatMap((s) => s.points.map((p) => p.p99Ms)).filter((v) => v > 0 && isFinite(v));
  const minLog = Math.floor(Math.log10(Math.min(...values)));
  const maxLog = Math.ceil(Math.log10(Math.max(...values)));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (rate: number) => MARGIN.left + (rates.indexOf(rate) / Math.max(1, rates.length - 1)) * plotW;
  const y = (ms: number) =>
    MARGIN.top + plotH - ((Math.log10(ms) - minLog) / Math.max(1, maxLog - minLog)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="14">${escape(title)}</text>`,
  ];
  for (let e = minLog; e <= maxLog; e++) {
    const ms = 10 ** e;
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(ms)}" y2="${y(ms)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 8}" y="${y(ms) + 4}" text-anchor="end">${ms >= 1 ? ms : ms.toFixed(-e)} ms</text>`,
    );
  }
  for (const rate of rates) {
    out.push(
      `<text x="${x(rate)}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${rate.toLocaleString("en")}</text>`,
    );
  }
  out.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">offered load (requests/s)</text>`,
    `<text x="16" y="${MARGIN.top + plotH / 2}" transform="rotate(-90 16 ${MARGIN.top + plotH / 2})" text-anchor="middle">p99 latency (log)</text>`,
  );
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const points = s.points.filter((p) => p.p99Ms > 0 && isFinite(p.p99Ms));
    out.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.map((p) => `${x(p.rate)},${y(p.p99Ms)}`).join(" ")}"/>`,
    );
    for (const p of points) {
      out.push(
        `<circle cx="${x(p.rate)}" cy="${y(p.p99Ms)}" r="4" stroke="${colour}" stroke-width="2" fill="${p.saturated ? "white" : colour}"/>`,
      );
    }
    const ly = MARGIN.top + 10 + i * 20;
    out.push(
      `<line x1="${WIDTH - MARGIN.right + 15}" x2="${WIDTH - MARGIN.right + 35}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${WIDTH - MARGIN.right + 40}" y="${ly + 4}">${escape(s.name)}</text>`,
    );
  });
  out.push(
    `<text x="${WIDTH - MARGIN.right + 15}" y="${MARGIN.top + 10 + series.length * 20 + 10}" fill="#555">hollow: rate not kept up</text>`,
    "</svg>",
  );
  return out.join("\n") + "\n";
}
