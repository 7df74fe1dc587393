import { Ciphertext } from './ciphertext';
import type { CkksContext } from './context';
import { InvalidArgumentError } from './errors';
import { PublicKey, SecretKey } from './keys';
import { callNative, callNativeAsync, type NativeHandle } from './native';
import { Plaintext } from './plaintext';

export interface EncryptOptions {
  /**
   * Secret-key encryption only: store the seed of c1 instead of c1 when saved, halving the bytes.
   * Default true for secret-key encryptors.
   */
  seeded?: boolean;
}

/** Encrypts with a public key (anyone) or a secret key (the data owner; seeded, smaller). */
export class Encryptor {
  constructor(
    readonly context: CkksContext,
    readonly key: PublicKey | SecretKey,
  ) {
    if (!(key instanceof PublicKey) && !(key instanceof SecretKey)) {
      throw new InvalidArgumentError('an Encryptor needs a PublicKey or a SecretKey', 'ERR_INVALID_ARGUMENT');
    }
  }

  private operation(plaintext: Plaintext, options: EncryptOptions): [string, ...unknown[]] {
    if (this.key instanceof PublicKey) {
      if (options.seeded) throw new InvalidArgumentError('seeded ciphertexts need secret-key encryption', 'ERR_INVALID_ARGUMENT');
      return ['encryptPublic', this.key.handle, plaintext.handle];
    }
    return ['encryptSecret', this.key.handle, plaintext.handle, options.seeded ?? true];
  }

  encrypt(plaintext: Plaintext, options: EncryptOptions = {}): Ciphertext {
    return new Ciphertext(this.context, callNative<NativeHandle>(...this.operation(plaintext, options)));
  }

  async encryptAsync(plaintext: Plaintext, options: EncryptOptions = {}): Promise<Ciphertext> {
    return new Ciphertext(this.context, await callNativeAsync<NativeHandle>(...this.operation(plaintext, options)));
  }
}

export class Decryptor {
  constructor(
    readonly context: CkksContext,
    readonly secretKey: SecretKey,
  ) {
    if (!(secretKey instanceof SecretKey)) throw new InvalidArgumentError('a Decryptor needs a SecretKey', 'ERR_INVALID_ARGUMENT');
  }

  decrypt(ciphertext: Ciphertext): Plaintext {
    return new Plaintext(this.context, callNative<NativeHandle>('decrypt', this.secretKey.handle, ciphertext.handle));
  }

  async decryptAsync(ciphertext: Ciphertext): Promise<Plaintext> {
    return new Plaintext(this.context, await callNativeAsync<NativeHandle>('decrypt', this.secretKey.handle, ciphertext.handle));
  }
}
