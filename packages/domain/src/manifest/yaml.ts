import {
  Composer,
  CST,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  type Node,
  Parser,
  YAMLParseError,
} from 'yaml';
import { MAX_MANIFEST_BYTES, type ManifestProblem, problem } from './types.ts';

/** Deepest `[`/`{` nesting accepted; deeper input is rejected while lexing, before it costs. */
const MAX_FLOW_DEPTH = 64;
/** Deepest nesting of the loaded value (block and flow together). */
const MAX_VALUE_DEPTH = 64;
/** Alias expansions allowed in one document (stops "billion laughs"). */
export const MAX_ALIAS_COUNT = 50;
/** More YAML errors than this are not listed one by one. */
const MAX_YAML_ERRORS = 20;

// YAML 1.2 core schema: no YAML 1.1 extras (!!binary, !!set, timestamps), no `<<` merges.
// Duplicate keys are detected below in linear time: yaml's own `uniqueKeys` check is
// quadratic (60k keys in one mapping take ~45 s).
const COMPOSE_OPTIONS = {
  version: '1.2',
  schema: 'core',
  merge: false,
  resolveKnownTags: false,
  uniqueKeys: false,
  strict: true,
  intAsBigInt: false,
} as const;

export type LoadResult = { ok: true; value: unknown } | { ok: false; errors: ManifestProblem[] };

class TooDeep extends Error {}

/**
 * Reads YAML (or JSON, which is YAML) into a plain JSON value. Rejects oversized input,
 * syntax errors, multiple documents, duplicate keys, tags, non-scalar keys, alias bombs,
 * non-finite numbers, `__proto__` keys and excessive nesting.
 */
export function loadYaml(source: string): LoadResult {
  // UTF-8 never takes fewer bytes than UTF-16 code units, so the length test is a safe shortcut.
  if (source.length > MAX_MANIFEST_BYTES || Buffer.byteLength(source, 'utf8') > MAX_MANIFEST_BYTES) {
    return { ok: false, errors: [problem('manifest is larger than 1 MiB')] };
  }
  const lines = new LineCounter();
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${line}:${col}`;
  };
  let doc: Document.Parsed;
  try {
    doc = composeSingle(source, lines);
  } catch (error) {
    if (!(error instanceof TooDeep)) throw error;
    return { ok: false, errors: [problem(`YAML is nested more than ${MAX_FLOW_DEPTH} levels deep`)] };
  }

  const errors: ManifestProblem[] = [];
  let exhausted = false;
  for (const issue of [...doc.errors, ...doc.warnings]) {
    if (issue.code === 'TAG_RESOLVE_FAILED') continue; // reported by checkNodes
    // A stack overflow while composing deep block nesting surfaces as RESOURCE_EXHAUSTION,
    // once per level it unwinds through (how many depends on the stack): report the first.
    if (issue.code === 'RESOURCE_EXHAUSTION' && exhausted) continue;
    exhausted ||= issue.code === 'RESOURCE_EXHAUSTION';
    const message =
      issue.code === 'RESOURCE_EXHAUSTION'
        ? 'nested too deeply'
        : (issue.message.split('\n')[0] ?? issue.message);
    errors.push(problem(`YAML syntax error at ${at(issue.pos[0])}: ${message}`));
  }
  if (errors.length > MAX_YAML_ERRORS) {
    const shown = errors.slice(0, MAX_YAML_ERRORS);
    shown.push(problem(`${errors.length - MAX_YAML_ERRORS} more YAML errors not shown`));
    return { ok: false, errors: shown };
  }
  if (errors.length > 0) return { ok: false, errors };

  checkNodes(doc.contents, [], errors, at);
  if (errors.length > 0) return { ok: false, errors };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    return {
      ok: false,
      errors: [problem(`YAML uses aliases too much (limit ${MAX_ALIAS_COUNT} expansions)`)],
    };
  }
  checkValue(value, [], errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}

/** yaml's parseDocument, but lexing through a guard that stops at excessive flow nesting. */
function composeSingle(source: string, lines: LineCounter): Document.Parsed {
  const parser = new Parser(lines.addNewLine);
  function* tokens() {
    lines.addNewLine(0);
    let depth = 0;
    let scalarNext = false; // the lexeme after a SCALAR marker is scalar text, not syntax
    for (const lexeme of new Lexer().lex(source)) {
      if (!scalarNext) {
        if (lexeme === '[' || lexeme === '{') {
          if (++depth > MAX_FLOW_DEPTH) throw new TooDeep();
        } else if ((lexeme === ']' || lexeme === '}') && depth > 0) depth--;
        else if (lexeme === CST.FLOW_END) depth = 0;
      }
      scalarNext = lexeme === CST.SCALAR;
      yield* parser.next(lexeme);
    }
    yield* parser.end();
  }
  let first: Document.Parsed | undefined;
  for (const doc of new Composer(COMPOSE_OPTIONS).compose(tokens(), true, source.length)) {
    if (!first) first = doc;
    else {
      first.errors.push(
        new YAMLParseError(
          [doc.range[0], doc.range[1]],
          'MULTIPLE_DOCS',
          'a manifest is a single YAML document',
        ),
      );
      break;
    }
  }
  // compose(…, forceDoc = true) always yields a document, even for empty input.
  if (!first) throw new Error('yaml composer yielded no document');
  return first;
}

type At = (offset: number) => string;

/** Tags, keys and duplicates, on the YAML node tree (positions still known). */
function checkNodes(node: Node | null, path: string[], out: ManifestProblem[], at: At): void {
  if (!node || isAlias(node) || path.length > MAX_VALUE_DEPTH) return; // depth: checkValue reports
  if (node.tag) {
    out.push(problem(`YAML tags are not allowed (${node.tag}) at ${at(node.range?.[0] ?? 0)}`, path));
  }
  if (isSeq(node)) {
    node.items.forEach((item, i) => {
      checkNodes(item as Node | null, [...path, String(i)], out, at);
    });
  } else if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      if (!isScalar(key) || key.tag) {
        const where = key?.range ? ` at ${at(key.range[0])}` : '';
        out.push(problem(`mapping keys must be plain strings${where}`, path));
        continue;
      }
      const name = String(key.value);
      if (seen.has(name)) {
        out.push(problem(`duplicate key "${name}" at ${at(key.range?.[0] ?? 0)}`, [...path, name]));
      }
      seen.add(name);
      checkNodes(pair.value as Node | null, [...path, name], out, at);
    }
  }
}

/** JSON-safety of the loaded value: finite numbers, no `__proto__`, bounded depth. */
function checkValue(value: unknown, path: string[], out: ManifestProblem[]): void {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    out.push(problem('numbers must be finite (.inf and .nan are not JSON)', path));
  } else if (typeof value === 'object' && value !== null) {
    if (path.length >= MAX_VALUE_DEPTH) {
      out.push(problem(`manifest is nested more than ${MAX_VALUE_DEPTH} levels deep`, path));
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      if (key === '__proto__') out.push(problem('key "__proto__" is not allowed', path));
      else checkValue(item, [...path, key], out);
    }
  }
}
