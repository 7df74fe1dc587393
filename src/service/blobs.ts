/**
 * Object bytes in the data directory. A blob is written to a temporary file, fsynced, renamed into
 * place and its directory fsynced, so a crash leaves either the whole blob or none; its SHA-256 is
 * kept in the database and checked on every read. Uploads grow a `.part` file chunk by chunk and
 * become a blob by the same rename.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CipherlmError } from '../api/errors';

/** Bytes on disk that no longer match their checksum: the data directory was damaged. */
export class CorruptBlobError extends CipherlmError {}

async function fsyncPath(file: string): Promise<void> {
  const handle = await fs.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class BlobStore {
  private constructor(readonly root: string) {}

  static async open(root: string): Promise<BlobStore> {
    for (const dir of ['blobs', 'tmp', 'uploads']) await fs.mkdir(path.join(root, dir), { recursive: true });
    return new BlobStore(root);
  }

  blobPath(id: string): string {
    return path.join(this.root, 'blobs', id.slice(-2), id);
  }

  partPath(uploadId: string): string {
    return path.join(this.root, 'uploads', `${uploadId}.part`);
  }

  /** Writes bytes as blob `id` atomically; returns their SHA-256. */
  async write(id: string, bytes: Uint8Array): Promise<string> {
    const tmp = path.join(this.root, 'tmp', `${id}.${randomBytes(6).toString('hex')}`);
    const handle = await fs.open(tmp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.moveIntoPlace(tmp, id);
    return createHash('sha256').update(bytes).digest('hex');
  }

  /** Renames a finished file into the blob directory and makes the rename durable. */
  async moveIntoPlace(file: string, id: string): Promise<void> {
    const target = this.blobPath(id);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(file, target);
    await fsyncPath(path.dirname(target));
  }

  /** A blob's bytes, refused unless they hash to `sha256`. */
  async read(id: string, sha256: string): Promise<Buffer> {
    const bytes = await fs.readFile(this.blobPath(id));
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) throw new CorruptBlobError(`blob ${id} does not match its checksum`, 'ERR_CORRUPT_BLOB');
    return bytes;
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.blobPath(id), { force: true });
  }

  /**
   * Writes one chunk of an upload at `offset`: whatever a broken earlier chunk left past the offset
   * is cut off first. Stops with `tooLarge` once more than `maxBytes` arrive. Returns the bytes written.
   */
  async writeChunk(uploadId: string, offset: number, body: Readable, maxBytes: number, tooLarge: () => Error): Promise<number> {
    const file = this.partPath(uploadId);
    const handle = await fs.open(file, 'a+');
    try {
      await handle.truncate(offset);
    } finally {
      await handle.close();
    }
    let written = 0;
    const sink = createWriteStream(file, { flags: 'r+', start: offset });
    await pipeline(
      body,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          written += chunk.length;
          if (written > maxBytes) throw tooLarge();
          yield chunk;
        }
      },
      sink,
    );
    return written;
  }

  /** Checks a finished upload's size and checksum, syncs it and hands back its bytes for validation. */
  async readPart(uploadId: string): Promise<{ bytes: Buffer; sha256: string }> {
    const file = this.partPath(uploadId);
    const bytes = await fs.readFile(file);
    await fsyncPath(file);
    return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  async removePart(uploadId: string): Promise<void> {
    await fs.rm(this.partPath(uploadId), { force: true });
  }
}
