/**
 * The server side never holds a secret key, by construction: the modules that `cipherlm serve` and
 * `cipherlm worker` run (the HTTP service, its job threads and the BullMQ worker) import neither
 * the private-inference client nor the keystore, and none of them makes or loads a secret key.
 * What reaches the server are uploads, which the loaders accept only as evaluation keys, encrypted
 * weights, requests, training states and batches (http.test.ts refuses a secret key sent as a key
 * part); finetune.test.ts checks that no byte the service stored holds the client's secret key.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from './helpers';

/** The .ts files `entry` reaches through relative imports (type-only imports too). */
function moduleGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import|require)\s*\(?\s*'(\.[^']+)'/g)) {
      const base = path.resolve(path.dirname(file), m[1]);
      const found = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
      if (found) visit(found);
    }
  };
  visit(entry);
  return seen;
}

it('the service, its job threads and its workers import no client code and make or load no secret key', () => {
  const entries = ['src/service/app.ts', 'src/service/job-thread.ts', 'src/service/queue.ts', 'src/service/threads.ts'].map((f) => path.join(ROOT, f));
  const graph = new Set(entries.flatMap((e) => [...moduleGraph(e)]));
  const relative = [...graph].map((f) => path.relative(ROOT, f));
  expect(relative).toContain('src/private/server.ts');
  expect(relative).toContain('src/private/trainer.ts');
  for (const clientSide of ['src/private/client.ts', 'src/service/keystore.ts', 'src/service/client.ts']) expect(relative).not.toContain(clientSide);
  // the engine's own API (src/api) defines key generation; nothing above it in the graph uses it
  const users = relative.filter((f) => !f.startsWith('src/api/') && /new KeyGenerator\(|SecretKey\.load\(|\.secretKey\b|createSecretKey/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
  expect(users).toEqual([]);
});
