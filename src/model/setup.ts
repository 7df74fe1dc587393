/** Shared experiment setup: tokenizer, encoded tasks, pretraining corpus, model config. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BpeTokenizer } from '../data/bpe';
import { loadSotuChunks, loadTask, TaskSplits } from '../data/datasets';
import { DEFAULT_CONFIG, ModelConfig, Variant } from './model';
import { Encoded } from './train';

export const ROOT = path.resolve(__dirname, '..', '..');
export const WEIGHTS = path.join(ROOT, 'weights');
export const TOKENIZER_FILE = path.join(WEIGHTS, 'tokenizer.json');
export const VOCAB_SIZE = 2000;
export const TASKS = ['spam', 'genre'] as const;
export type TaskName = (typeof TASKS)[number];

/** The HE-friendly variant starts its Gaussian kernel in its responsive range (see ModelConfig.attnInit). */
export const HEFRIENDLY_ATTN_INIT = { qk: 0.5, out: 0.15 };

/** Pretraining keeps every HE-friendly attention row's mass above this floor (see ModelConfig.attnMassFloor). */
export const HEFRIENDLY_MASS_FLOOR = { floor: 0.5, weight: 0.05 };

export function modelConfig(variant: Variant, vocab: number): ModelConfig {
  const he = variant === 'hefriendly' ? { attnInit: HEFRIENDLY_ATTN_INIT, attnMassFloor: HEFRIENDLY_MASS_FLOOR } : {};
  return { ...DEFAULT_CONFIG, vocab, variant, ...he };
}

export function pretrainedFile(variant: Variant): string {
  return path.join(WEIGHTS, `pretrained-${variant}.ckpt`);
}

/** Load the committed tokenizer, or train it (SOTU + the tasks' training texts) and save it. */
export function getTokenizer(tasks?: TaskSplits[]): BpeTokenizer {
  if (fs.existsSync(TOKENIZER_FILE)) return new BpeTokenizer(JSON.parse(fs.readFileSync(TOKENIZER_FILE, 'utf8')));
  const ts = tasks ?? TASKS.map((t) => loadTask(t));
  const texts = [...loadSotuChunks(), ...ts.flatMap((t) => t.train.map((e) => e.text))];
  const tok = BpeTokenizer.train(texts, VOCAB_SIZE);
  fs.mkdirSync(WEIGHTS, { recursive: true });
  fs.writeFileSync(TOKENIZER_FILE, JSON.stringify(tok.toJSON()));
  return tok;
}

export function encodeSplit(tok: BpeTokenizer, xs: { text: string; label: number }[], maxLen: number): Encoded[] {
  return xs.map((e) => ({ ids: tok.encode(e.text, maxLen), label: e.label }));
}

/** Pretraining corpus: SOTU chunks + training texts of the tasks (never validation/test). */
export function pretrainCorpus(tok: BpeTokenizer, tasks: TaskSplits[], maxLen: number): number[][] {
  const texts = [...loadSotuChunks(), ...tasks.flatMap((t) => t.train.map((e) => e.text))];
  return texts.map((t) => tok.encode(t, maxLen)).filter((ids) => ids.length >= 6);
}
