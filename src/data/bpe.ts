/**
 * Byte-pair-encoding subword tokenizer (Sennrich et al.), trained on the pretraining corpus.
 * Lower-cased; pre-tokenised into words, digits and punctuation; the last symbol of a word carries
 * the end-of-word marker "</w>". Special tokens: [PAD] [UNK] [CLS] [SEP] [MASK].
 */
export const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
export const PAD = 0;
export const UNK = 1;
export const CLS = 2;
export const SEP = 3;
export const MASK = 4;
const EOW = '</w>';

export interface BpeJson {
  kind: 'bpe';
  vocab: string[];
  merges: [string, string][];
}

export function preTokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+|[0-9]|[^\sa-z0-9]/g) ?? [];
}

function wordSymbols(w: string): string[] {
  const s = Array.from(w);
  s[s.length - 1] += EOW;
  return s;
}

export class BpeTokenizer {
  readonly vocab: string[];
  readonly merges: [string, string][];
  private ids = new Map<string, number>();
  private ranks = new Map<string, number>();
  private cache = new Map<string, number[]>();

  constructor(j: BpeJson) {
    this.vocab = j.vocab;
    this.merges = j.merges;
    j.vocab.forEach((v, i) => this.ids.set(v, i));
    j.merges.forEach(([a, b], i) => this.ranks.set(`${a} ${b}`, i));
  }

  get size(): number {
    return this.vocab.length;
  }

  toJSON(): BpeJson {
    return { kind: 'bpe', vocab: this.vocab, merges: this.merges };
  }

  /** Train on texts; vocabSize includes specials and the base characters. */
  static train(texts: Iterable<string>, vocabSize: number, minCount = 2): BpeTokenizer {
    const counts = new Map<string, number>();
    for (const t of texts) for (const w of preTokenize(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const words: { sym: string[]; n: number }[] = [];
    const chars = new Map<string, number>();
    for (const [w, n] of counts) {
      const sym = wordSymbols(w);
      for (const c of sym) chars.set(c, (chars.get(c) ?? 0) + n);
      if (n >= minCount) words.push({ sym, n });
    }
    const base = [...chars.entries()].filter(([, n]) => n >= minCount).map(([c]) => c).sort();
    const vocab: string[] = [...SPECIALS, ...base];
    const merges: [string, string][] = [];
    while (vocab.length < vocabSize) {
      const pairs = new Map<string, number>();
      for (const { sym, n } of words)
        for (let i = 0; i + 1 < sym.length; i++) {
          const k = `${sym[i]} ${sym[i + 1]}`;
          pairs.set(k, (pairs.get(k) ?? 0) + n);
        }
      let best = '';
      let bestN = 0;
      for (const [k, n] of pairs) if (n > bestN || (n === bestN && k < best)) (best = k), (bestN = n);
      if (bestN < minCount) break;
      const [a, b] = best.split(' ');
      const m = a + b;
      merges.push([a, b]);
      vocab.push(m);
      for (const w of words) {
        const s = w.sym;
        if (s.length < 2) continue;
        const o: string[] = [];
        for (let i = 0; i < s.length; i++) {
          if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
            o.push(m);
            i++;
          } else o.push(s[i]);
        }
        w.sym = o;
      }
    }
    return new BpeTokenizer({ kind: 'bpe', vocab, merges });
  }

  encodeWord(w: string): number[] {
    const hit = this.cache.get(w);
    if (hit) return hit;
    let s = wordSymbols(w);
    for (;;) {
      let bi = -1;
      let br = Infinity;
      for (let i = 0; i + 1 < s.length; i++) {
        const r = this.ranks.get(`${s[i]} ${s[i + 1]}`);
        if (r !== undefined && r < br) (br = r), (bi = i);
      }
      if (bi < 0) break;
      s = [...s.slice(0, bi), s[bi] + s[bi + 1], ...s.slice(bi + 2)];
    }
    const ids = s.map((x) => this.ids.get(x) ?? UNK);
    if (this.cache.size < 200000) this.cache.set(w, ids);
    return ids;
  }

  /** [CLS] tokens... [SEP], truncated to maxLen; returns ids (unpadded). */
  encode(text: string, maxLen: number): number[] {
    const out = [CLS];
    for (const w of preTokenize(text)) {
      for (const id of this.encodeWord(w)) {
        if (out.length >= maxLen - 1) break;
        out.push(id);
      }
      if (out.length >= maxLen - 1) break;
    }
    out.push(SEP);
    return out;
  }

  decode(ids: number[]): string {
    return ids
      .filter((i) => i >= SPECIALS.length)
      .map((i) => this.vocab[i])
      .join('')
      .replace(/<\/w>/g, ' ')
      .trim();
  }
}
