/**
 * Parameter sets for private inference: a bootstrapping preset (context, secret, bootstrapping
 * options) whose levels left after a bootstrap are the pipeline's top level. The encrypted
 * LayerNorm needs a degree-63 Chebyshev step (7 levels) plus one, so a preset must leave at least 8.
 */
import { BOOTSTRAP_PRESETS, type BootstrapPreset } from '../api/bootstrap';

/**
 * N = 8192 (one 40-token sequence per ciphertext), 10 levels left after bootstrapping: the
 * pipeline's own tests. Far below 128-bit security; refused unless the caller opts in.
 */
const TEST_PIPELINE: BootstrapPreset = {
  name: 'test-pipeline-n8192',
  description: 'N = 8192 (4096 slots), 10 levels left after bootstrapping: fast, for tests only',
  context: {
    ringDegree: 8192,
    // q_0 | 10 user levels at 2^40 | SlotsToCoeffs 3 | EvalMod 8 | CoeffsToSlots 3
    dataBits: [52, ...Array(10).fill(40), 55, 55, 55, ...Array(8).fill(58), 58, 58, 58],
    specialBits: [60, 60, 60, 60, 60, 60],
    scale: 2 ** 40,
  },
  hammingWeight: 64,
  bootstrap: { coeffsToSlotsLevels: 3, slotsToCoeffsLevels: 3, modRange: 12, doubleAngles: 2, sineDegree: 60 },
  levelsLeft: 10,
  security: 'none: N = 8192 with a 1.4k-bit modulus is far below 128-bit security',
  insecure: true,
};

export const PIPELINE_PRESETS: Readonly<Record<string, BootstrapPreset>> = Object.freeze({
  test: TEST_PIPELINE,
  ...('transformer' in BOOTSTRAP_PRESETS ? { secure: (BOOTSTRAP_PRESETS as Record<string, BootstrapPreset>).transformer } : {}),
});

/** Levels a preset must leave after bootstrapping for the encrypted executor. */
export const MIN_PIPELINE_LEVELS = 8;
