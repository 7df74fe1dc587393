/**
 * The encrypted executor's plan for both variants, levels only (no keys, no ciphertexts): the
 * multiplicative depth of each layer along its longest path (planned with levels that never run
 * out) and the bootstraps per layer and row group at the given top levels (levels left after a
 * bootstrap). Bootstraps pair two real ciphertexts, so a row group's count is per ciphertext pair.
 *   node --import tsx scripts/private/plan-depths.ts [top levels...] (default: 10 13)
 */
import { describeModel } from '../../src/model/description';
import type { Variant } from '../../src/model/model';
import { modelConfig, VOCAB_SIZE } from '../../src/model/setup';
import { Executor, VALUE_BOUNDS } from '../../src/private/executor';

const tops = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [10, 13];
const UNBOUNDED = 100_000;

/** The part of the model a stage belongs to: a layer, or what comes before and after the layers. */
const partOf = (stage: string) => /^L\d+/.exec(stage)?.[0] ?? (stage.startsWith('keyMask') ? 'inputs' : 'head');

async function plan(variant: Variant, top: number) {
  const desc = describeModel(modelConfig(variant, VOCAB_SIZE));
  const executor = new Executor(desc, top, 1, null);
  const levels = new Map<string, number>();
  const out = await executor.forward(executor.input('embeddings', VALUE_BOUNDS.residual, null, 1), executor.input('keyMask', VALUE_BOUNDS.unit, null, 1));
  const bootstraps = new Map<string, number>();
  for (const s of executor.stages) {
    bootstraps.set(partOf(s.stage), (bootstraps.get(partOf(s.stage)) ?? 0) + s.bootstraps);
    levels.set(partOf(s.stage), s.level);
  }
  return { desc, executor, out, bootstraps, levels };
}

(async () => {
  for (const variant of ['hefriendly', 'standard'] as const) {
    // depth: the residual stream's level drop per part with levels that never run out
    const deep = await plan(variant, UNBOUNDED);
    // (the packed key mask is computed beside the stream, from the fresh key mask)
    let previous = UNBOUNDED;
    const depth = new Map<string, number>();
    for (const [part, level] of deep.levels) {
      depth.set(part, part === 'inputs' ? UNBOUNDED - level : previous - level);
      if (part !== 'inputs') previous = level;
    }
    const rows = await Promise.all(tops.map((top) => plan(variant, top)));
    console.log(`\n${variant}: stages ${deep.executor.stages.length}`);
    console.log(`| part | depth | ${tops.map((t) => `bootstraps at top level ${t}`).join(' | ')} |`);
    console.log(`| --- | --- | ${tops.map(() => '---').join(' | ')} |`);
    for (const part of deep.levels.keys())
      console.log(`| ${part} | ${depth.get(part)} | ${rows.map((r) => r.bootstraps.get(part) ?? 0).join(' | ')} |`);
    console.log(`| total | ${UNBOUNDED - deep.out.level} | ${rows.map((r) => r.executor.bootstraps).join(' | ')} |`);
    if (process.env.CIPHERLM_STAGES)
      for (const s of rows[0].executor.stages) console.log(`  ${s.stage.padEnd(28)} level ${String(s.level).padStart(2)}  bootstraps ${s.bootstraps}`);
  }
})();
