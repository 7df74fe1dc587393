/** Minimal SVG line charts (no dependencies) for training curves. */
export interface Series {
  name: string;
  points: [number, number][];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[], w = 640, h = 360): string {
  const pad = { l: 60, r: 170, t: 36, b: 46 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const x0 = Math.min(...xs, 0);
  const x1 = Math.max(...xs, 1);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y1 - y0 < 1e-9) (y0 -= 0.5), (y1 += 0.5);
  const m = (y1 - y0) * 0.05;
  y0 -= m;
  y1 += m;
  const X = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * (w - pad.l - pad.r);
  const Y = (y: number) => h - pad.b - ((y - y0) / (y1 - y0)) * (h - pad.t - pad.b);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="${w}" height="${h}" fill="white"/>`);
  o.push(`<text x="${w / 2 - pad.r / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const yv = y0 + ((y1 - y0) * i) / 5;
    const xv = x0 + ((x1 - x0) * i) / 5;
    o.push(`<line x1="${pad.l}" x2="${w - pad.r}" y1="${Y(yv)}" y2="${Y(yv)}" stroke="#eee"/>`);
    o.push(`<text x="${pad.l - 6}" y="${Y(yv) + 4}" text-anchor="end">${yv.toPrecision(3)}</text>`);
    o.push(`<text x="${X(xv)}" y="${h - pad.b + 16}" text-anchor="middle">${Math.round(xv)}</text>`);
  }
  o.push(`<rect x="${pad.l}" y="${pad.t}" width="${w - pad.l - pad.r}" height="${h - pad.t - pad.b}" fill="none" stroke="#444"/>`);
  o.push(`<text x="${(pad.l + w - pad.r) / 2}" y="${h - 8}" text-anchor="middle">${esc(xLabel)}</text>`);
  o.push(`<text transform="translate(16 ${(pad.t + h - pad.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ');
    o.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="2"/>`);
    o.push(`<line x1="${w - pad.r + 10}" x2="${w - pad.r + 30}" y1="${pad.t + 10 + i * 18}" y2="${pad.t + 10 + i * 18}" stroke="${c}" stroke-width="2"/>`);
    o.push(`<text x="${w - pad.r + 36}" y="${pad.t + 14 + i * 18}">${esc(s.name)}</text>`);
  });
  o.push('</svg>');
  return o.join('\n');
}
