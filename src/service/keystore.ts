/**
 * The client's keystore: its secret key (and which server and context it belongs to) in a file
 * encrypted at rest. The key comes from the passphrase by scrypt; AES-256-GCM encrypts the secret
 * part and authenticates the public part, so neither can be altered without the passphrase.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback, type ScryptOptions } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { CipherlmError } from '../api/errors';

const FORMAT = 'cipherlm-keystore/1';
/** scrypt cost: N = 2^15 with r = 8 takes ~32 MiB and ~0.1 s, as a passphrase KDF should. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 << 20 };

/** A keystore that is not one, or whose passphrase is wrong (indistinguishable from tampering). */
export class KeystoreError extends CipherlmError {}

export interface KeystorePublic {
  /** The service's base URL and the context the keys were registered as. */
  server: string;
  contextId: string;
  /** The client's model checkpoint (its private adapters and head). */
  modelFile: string;
  preset: string;
}
export interface KeystoreContents {
  public: KeystorePublic;
  secretKey: Uint8Array;
}

interface KeystoreFile {
  format: typeof FORMAT;
  public: KeystorePublic;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: 'aes-256-gcm';
  iv: string;
  tag: string;
  data: string;
}

function deriveKey(passphrase: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(passphrase, salt, 32, options, (error, key) => (error ? reject(error) : resolve(key))));
}

export async function writeKeystore(file: string, passphrase: string, contents: KeystoreContents): Promise<void> {
  if (passphrase.length === 0) throw new KeystoreError('the keystore passphrase is empty', 'ERR_KEYSTORE_PASSPHRASE');
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await deriveKey(passphrase, salt, SCRYPT);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(JSON.stringify(contents.public)));
  const data = Buffer.concat([cipher.update(contents.secretKey), cipher.final()]);
  const stored: KeystoreFile = {
    format: FORMAT,
    public: contents.public,
    kdf: { name: 'scrypt', N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt: salt.toString('base64') },
    cipher: 'aes-256-gcm',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(stored, null, 2), { mode: 0o600, flag: 'wx' });
  await fs.rename(tmp, file);
}

export async function readKeystore(file: string, passphrase: string): Promise<KeystoreContents> {
  let stored: KeystoreFile;
  try {
    stored = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new KeystoreError(`cannot read keystore ${file}: ${(error as Error).message}`, 'ERR_KEYSTORE');
  }
  if (stored?.format !== FORMAT || stored.kdf?.name !== 'scrypt' || stored.cipher !== 'aes-256-gcm') throw new KeystoreError(`${file} is not a ${FORMAT} file`, 'ERR_KEYSTORE');
  const { N, r, p } = stored.kdf;
  const key = await deriveKey(passphrase, Buffer.from(stored.kdf.salt, 'base64'), { N, r, p, maxmem: SCRYPT.maxmem });
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(stored.iv, 'base64'));
  decipher.setAAD(Buffer.from(JSON.stringify(stored.public)));
  decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));
  try {
    const secretKey = Buffer.concat([decipher.update(Buffer.from(stored.data, 'base64')), decipher.final()]);
    return { public: stored.public, secretKey: new Uint8Array(secretKey) };
  } catch {
    throw new KeystoreError('wrong passphrase, or the keystore was altered', 'ERR_KEYSTORE_PASSPHRASE');
  }
}
