// Renders graph-schema/graph.yaml into packages/graph/src/generated/.
//   npm run generate -w @maestro/graph-schema             write the files that changed
//   npm run generate -w @maestro/graph-schema -- --check  exit 1 and list stale files
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GraphModel } from './model.ts';
import { renderConstraints, renderEntities } from './render.ts';
import { GraphSpecError, loadSpec, REPO_ROOT } from './spec.ts';

export const OUTPUT_DIR = 'packages/graph/src/generated';

export interface GeneratedFile {
  /** Relative to the repository root. */
  path: string;
  content: string;
}

/** Renders the model, formatted exactly as Biome formats it (the repo's biome.json settings). */
export function generate(model: GraphModel = loadSpec()): GeneratedFile[] {
  return [
    { path: `${OUTPUT_DIR}/entities.ts`, content: renderEntities(model) },
    { path: `${OUTPUT_DIR}/constraints.ts`, content: renderConstraints(model) },
  ].map((f) => ({ path: f.path, content: format(f.path, f.content) }));
}

/**
 * Formats with Biome (the repository's biome.json formatter settings) through its stdin mode.
 * biome.json excludes `**\/generated`, and Biome passes ignored paths through unformatted, so
 * the stdin path names a (non-existent) file in graph-schema instead of the real output path.
 */
export function format(path: string, content: string): string {
  const biome = join(REPO_ROOT, 'node_modules/@biomejs/biome/bin/biome');
  if (!existsSync(biome))
    throw new Error(`graph-schema: Biome is not installed at ${biome}; run npm install`);
  const result = spawnSync(
    process.execPath,
    [biome, 'format', `--stdin-file-path=graph-schema/biome-stdin/${basename(path)}`],
    { cwd: REPO_ROOT, input: content, encoding: 'utf8' },
  );
  if (result.status !== 0 || /not formatted/.test(result.stderr)) {
    throw new Error(`graph-schema: biome could not format ${path}:\n${result.stderr}${result.error ?? ''}`);
  }
  return result.stdout;
}

/** The files whose content on disk differs from `files` (missing files included). */
export function staleFiles(files: readonly GeneratedFile[]): string[] {
  return files
    .filter((f) => {
      const file = join(REPO_ROOT, f.path);
      return !existsSync(file) || readFileSync(file, 'utf8') !== f.content;
    })
    .map((f) => f.path);
}

function main(args: readonly string[]): number {
  let files: GeneratedFile[];
  try {
    files = generate();
  } catch (error) {
    if (error instanceof GraphSpecError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  const stale = staleFiles(files);
  if (args.includes('--check')) {
    if (stale.length === 0) {
      console.log(`graph-schema: ${files.length} generated files are up to date`);
      return 0;
    }
    console.error(`graph-schema: stale generated files (run npm run generate -w @maestro/graph-schema):`);
    for (const path of stale) console.error(`  ${path}`);
    return 1;
  }
  for (const f of files.filter((x) => stale.includes(x.path))) {
    const file = join(REPO_ROOT, f.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, f.content);
    console.log(`graph-schema: wrote ${f.path}`);
  }
  if (stale.length === 0) console.log(`graph-schema: ${files.length} generated files already up to date`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
