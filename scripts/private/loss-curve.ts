/**
 * The per-step losses of a private fine-tuning run beside the plaintext trainer's: kept as JSON
 * (rewritten atomically after each step, so a resumed run continues its curve) and drawn as SVG.
 */
import * as fs from 'node:fs';
import { writeFileAtomic } from '../../src/private/atomic-file';

export interface CurvePoint {
  step: number;
  encrypted: number;
  plaintext: number;
  seconds: number;
  bootstraps: number;
}

export function readCurve(file: string): CurvePoint[] {
  if (!fs.existsSync(file)) return [];
  const rows = JSON.parse(fs.readFileSync(file, 'utf8')) as CurvePoint[];
  if (!Array.isArray(rows) || rows.some((r) => !Number.isInteger(r.step) || !Number.isFinite(r.encrypted) || !Number.isFinite(r.plaintext)))
    throw new Error(`${file} is not a loss curve written by demo:finetune`);
  return rows;
}

/** Keeps the points before `point.step` (a resumed run repeats none) and adds this one. */
export function appendCurve(file: string, point: CurvePoint): CurvePoint[] {
  const rows = readCurve(file).filter((r) => r.step < point.step);
  rows.push(point);
  writeFileAtomic(file, Buffer.from(JSON.stringify(rows, null, 1)));
  return rows;
}

/** Both losses against the step, one polyline each, with labelled axes. */
export function curveSvg(rows: CurvePoint[], title: string): string {
  const width = 640;
  const height = 360;
  const margin = { left: 60, right: 20, top: 36, bottom: 44 };
  const losses = rows.flatMap((r) => [r.encrypted, r.plaintext]);
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const span = hi - lo || 1;
  const last = Math.max(...rows.map((r) => r.step), 1);
  const x = (step: number) => margin.left + ((step - 1) / Math.max(last - 1, 1)) * (width - margin.left - margin.right);
  const y = (loss: number) => height - margin.bottom - ((loss - lo) / span) * (height - margin.top - margin.bottom);
  const line = (key: 'encrypted' | 'plaintext') => rows.map((r) => `${x(r.step).toFixed(1)},${y(r[key]).toFixed(1)}`).join(' ');
  const ticks = [lo, lo + span / 2, hi]
    .map((v) => `<text x="${margin.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(3)}</text>`)
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>`,
    `<line x1="${margin.left}" y1="${height - margin.bottom}" x2="${width - margin.right}" y2="${height - margin.bottom}" stroke="black"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${height - margin.bottom}" stroke="black"/>`,
    ticks,
    `<text x="${margin.left}" y="${height - margin.bottom + 16}">1</text>`,
    `<text x="${width - margin.right}" y="${height - margin.bottom + 16}" text-anchor="end">${last}</text>`,
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle">step (batch loss)</text>`,
    `<polyline points="${line('plaintext')}" fill="none" stroke="#1f77b4" stroke-width="3"/>`,
    `<polyline points="${line('encrypted')}" fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="5,3"/>`,
    `<text x="${width - margin.right - 150}" y="${margin.top + 4}" fill="#1f77b4">plaintext trainer</text>`,
    `<text x="${width - margin.right - 150}" y="${margin.top + 20}" fill="#d62728">encrypted (decrypted log)</text>`,
    '</svg>',
    '',
  ].join('\n');
}
