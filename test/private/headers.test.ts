/**
 * Message headers: the client key id (a one-way, stable label of the secret key) and the binding
 * that refuses bytes under another key; the shared header checks of server and service.
 */
import { describe, expect, it } from 'vitest';
import { CkksContext, KeyGenerator, SecretKey } from '../../src';
import { checkGroups, checkStateHeader, KeyBinding, keyIdOf } from '../../src/private/headers';
import { PIPELINE_PRESETS } from '../../src/private/presets';

const context = CkksContext.create({ ...PIPELINE_PRESETS.test.context, allowInsecureParametersForTestsOnly: true });

describe('client key id', () => {
  it('is 128 bits of hex, the same for a key restored from its bytes, different for another key', () => {
    const first = new KeyGenerator(context).secretKey.save();
    const second = new KeyGenerator(context).secretKey.save();
    const id = keyIdOf(first);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(keyIdOf(SecretKey.load(context, first).save())).toBe(id);
    expect(keyIdOf(second)).not.toBe(id);
    // flipping one byte of the key changes the id
    const flipped = Uint8Array.from(first);
    flipped[flipped.length - 1] ^= 1;
    expect(keyIdOf(flipped)).not.toBe(id);
  });

  it('binds to the first id accepted and then refuses any other with KeyMismatchError', () => {
    const [a, b] = [keyIdOf(new Uint8Array([1])), keyIdOf(new Uint8Array([2]))];
    const binding = new KeyBinding();
    expect(binding.keyId).toBeNull();
    expect(binding.check({ keyId: b }, 'x')).toBe(b); // checking alone binds nothing
    binding.bind(binding.check({ keyId: a }, 'x'));
    expect(binding.keyId).toBe(a);
    expect(binding.check({ keyId: a, groups: 1 }, 'x')).toBe(a);
    expect(() => binding.check({ keyId: b }, 'the batch')).toThrow(expect.objectContaining({ code: 'ERR_KEY_MISMATCH', message: expect.stringContaining('the batch') }));
    for (const header of [{}, { keyId: 7 }, { keyId: 'A'.repeat(32) }, { keyId: a.slice(1) }, null])
      expect(() => binding.check(header, 'x')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('shared header checks', () => {
  it('row groups: an integer from 1 to the limit', () => {
    expect(checkGroups(3, 8, 'request')).toBe(3);
    for (const bad of [0, 9, 1.5, '2', null]) expect(() => checkGroups(bad, 8, 'batch')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('training state: the plan\'s counts, a step, sane optimizer settings', () => {
    const training = { parameters: 10, optimizerWidth: 2 };
    const settings = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, batch: 16 };
    const good = { keyId: keyIdOf(new Uint8Array([1])), step: 3, parameters: 10, optimizerWidth: 2, settings };
    expect(() => checkStateHeader(good, training)).not.toThrow();
    const bad = [{ parameters: 9 }, { optimizerWidth: 3 }, { step: -1 }, { step: 0.5 }, { settings: { ...settings, lr: Number.NaN } }, { settings: { ...settings, eps: 0 } }, { settings: { ...settings, batch: 0 } }, { settings: undefined }];
    for (const change of bad) expect(() => checkStateHeader({ ...good, ...change } as never, training)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
