import { Ciphertext } from './ciphertext';
import type { CkksContext } from './context';
import { InvalidArgumentError } from './errors';
import { GaloisKeys, PublicKey, RelinKey, SecretKey } from './keys';
import { callNative } from './native';
import { Plaintext } from './plaintext';

export type Loadable = Plaintext | Ciphertext | SecretKey | PublicKey | RelinKey | GaloisKeys;

/** Loads any object saved by save(), whatever its kind; validated in full before use. */
export function load(context: CkksContext, bytes: Uint8Array): Loadable {
  const type = callNative<number>('peekType', bytes);
  switch (type) {
    case 2:
      return Plaintext.load(context, bytes);
    case 3:
      return Ciphertext.load(context, bytes);
    case 4:
      return SecretKey.load(context, bytes);
    case 5:
      return PublicKey.load(context, bytes);
    case 6:
      return RelinKey.load(context, bytes);
    case 7:
      return GaloisKeys.load(context, bytes);
    default:
      throw new InvalidArgumentError('these bytes hold encryption parameters: load them with CkksContext.load', 'ERR_INVALID_ARGUMENT');
  }
}
