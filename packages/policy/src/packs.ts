import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** One policy pack as the API lists it: a titled package of a compiled, signed bundle. */
export interface PolicyPackInfo {
  id: string;
  title: string;
  summary: string;
  profile: string;
  revision: string;
  digest: string;
  /** Ed25519 signature over the bundle digest (hex text), base64. */
  signature: string;
  /** The verifying key: SPKI DER, base64. */
  publicKey: string;
}

interface BuildMeta {
  profile: string;
  revision: string;
  digest: string;
  packs: Array<{ id: string; title: string; summary: string }>;
}

/**
 * The signing key: a configured Ed25519 private key (PEM), or — when none is configured, as in
 * development — a key made for this process. Anyone can verify with the published key.
 */
export function signingKey(pem: string | undefined): KeyObject {
  if (pem) {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ed25519')
      throw new Error('the policy signing key must be an Ed25519 private key');
    return key;
  }
  return generateKeyPairSync('ed25519').privateKey;
}

/** Reads build/<profile>.json (written by policy-bundles/build.sh) and signs each pack's digest. */
export async function loadPolicyPacks(metaPath: string, key: KeyObject): Promise<PolicyPackInfo[]> {
  const meta = JSON.parse(await readFile(metaPath, 'utf8')) as BuildMeta;
  const signature = sign(null, Buffer.from(meta.digest, 'utf8'), key).toString('base64');
  const publicKey = createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');
  return meta.packs.map((p) => ({
    ...p,
    profile: meta.profile,
    revision: meta.revision,
    digest: meta.digest,
    signature,
    publicKey,
  }));
}

/** Checks a pack's signature against its published key. */
export function verifyPack(pack: Pick<PolicyPackInfo, 'digest' | 'signature' | 'publicKey'>): boolean {
  const key = createPublicKey({ key: Buffer.from(pack.publicKey, 'base64'), format: 'der', type: 'spki' });
  return verify(null, Buffer.from(pack.digest, 'utf8'), key, Buffer.from(pack.signature, 'base64'));
}
