/** Loads the native addon (a prebuilt binary when one matches, else the local build). */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { translateError } from './errors';

/** An opaque native object: dispose() frees its memory now instead of at garbage collection. */
export interface NativeHandle {
  dispose(): void;
  readonly disposed: boolean;
}

interface NativeAddon {
  call(operation: string, ...args: unknown[]): unknown;
  callAsync(operation: string, ...args: unknown[]): Promise<unknown>;
  operations: string[];
}

function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'CMakeLists.txt'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cipherlm: cannot find the package root from ' + __dirname);
    dir = parent;
  }
  return dir;
}

const requireFromHere = createRequire(join(packageRoot(), 'package.json'));
const nodeGypBuild = requireFromHere('node-gyp-build') as (root: string) => NativeAddon;

export const addon: NativeAddon = nodeGypBuild(packageRoot());

/** Calls a native operation synchronously, translating errors into typed errors. */
export function callNative<T>(operation: string, ...args: unknown[]): T {
  try {
    return addon.call(operation, ...args) as T;
  } catch (error) {
    throw translateError(error);
  }
}

/** Runs a native operation on a worker thread of libuv's pool; resolves with its result. */
export async function callNativeAsync<T>(operation: string, ...args: unknown[]): Promise<T> {
  try {
    return (await addon.callAsync(operation, ...args)) as T;
  } catch (error) {
    throw translateError(error);
  }
}
