import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';

/** The parts of an `opa build -t wasm` bundle the engine needs. */
export interface CompiledBundle {
  wasm: Uint8Array;
  data: unknown;
  manifest: { revision?: string; roots?: string[] };
  /** sha256 of the bundle file, hex. */
  digest: string;
}

/** Reads a compiled bundle (.tar.gz) into memory: policy.wasm, data.json and .manifest. */
export async function readBundle(path: string): Promise<CompiledBundle> {
  const bytes = await readFile(path);
  const files = new Map<string, Buffer>();
  const tar = extract();
  const done = new Promise<void>((resolve, reject) => {
    tar.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        files.set(header.name.replace(/^\/+/, ''), Buffer.concat(chunks));
        next();
      });
      stream.on('error', reject);
    });
    tar.on('finish', resolve);
    tar.on('error', reject);
  });
  Readable.from(bytes)
    .pipe(createGunzip())
    .on('error', (e) => tar.destroy(e))
    .pipe(tar);
  await done;

  const wasm = files.get('policy.wasm');
  if (!wasm) throw new Error(`policy bundle ${path} has no policy.wasm (was it built with -t wasm?)`);
  const data = files.has('data.json') ? JSON.parse(files.get('data.json')?.toString('utf8') ?? '{}') : {};
  const manifest = files.has('.manifest') ? JSON.parse(files.get('.manifest')?.toString('utf8') ?? '{}') : {};
  return { wasm, data, manifest, digest: createHash('sha256').update(bytes).digest('hex') };
}
