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
  return parseBundle(await readFile(path), path);
}

/** sha256 of bundle bytes, hex: the digest a compiled bundle is known by. */
export function bundleDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Parses the bytes of a compiled bundle (.tar.gz). Throws on anything that is not a complete
 * gzip'd tar holding a policy.wasm (garbage, truncated archives, bundles built without -t wasm)
 * and on a data.json or .manifest that is not JSON.
 */
export async function parseBundle(bytes: Uint8Array, label = 'bundle'): Promise<CompiledBundle> {
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
  Readable.from([bytes])
    .pipe(createGunzip())
    .on('error', (e) => tar.destroy(e))
    .pipe(tar);
  await done;

  const wasm = files.get('policy.wasm');
  if (!wasm) throw new Error(`policy bundle ${label} has no policy.wasm (was it built with -t wasm?)`);
  return {
    wasm,
    data: jsonFile(files, 'data.json', label),
    manifest: jsonFile(files, '.manifest', label) as CompiledBundle['manifest'],
    digest: bundleDigest(bytes),
  };
}

function jsonFile(files: Map<string, Buffer>, name: string, label: string): unknown {
  const bytes = files.get(name);
  if (!bytes) return {};
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new Error(`policy bundle ${label}: ${name} is not JSON (${(error as Error).message})`);
  }
}
