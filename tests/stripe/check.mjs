// Checks event fixtures against the official Stripe SDK's types: each
// event must be assignable to the SDK's type of its event (e.g.
// Stripe.InvoicePaidEvent), with no field that type lacks. Fixtures of
// API versions before 2025-03-31 are checked against stripe@16 (API
// 2024-06-20, in legacy/), the others against stripe@23 (2026-11-18).
//
//   node check.mjs fixtures.json   # [{"name", "shape": "legacy"|"current", "event"}]
// prints {"name": [errors...]} (an empty list: the fixture fits).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const typeName = (kind) =>
  kind.split(/[._]/).map((part) => part[0].toUpperCase() + part.slice(1)).join('') + 'Event';

// Every field optional (fixtures carry what the code reads), but no field
// that the SDK's type does not have: object literals get TypeScript's
// excess-property check at every depth.
const prelude = `import Stripe from 'stripe';
type Shape<T> = T extends (infer U)[] ? Shape<U>[] : T extends object ? { [K in keyof T]?: Shape<T[K]> } : T;
`;

const result = {};
for (const shape of ['legacy', 'current']) {
  const dir = join(here, shape === 'legacy' ? 'legacy' : '.', 'generated');
  mkdirSync(dir, { recursive: true });
  const mine = fixtures.filter((fixture) => fixture.shape === shape);
  const lines = [prelude];
  const starts = [];
  mine.forEach((fixture, index) => {
    starts.push(lines.join('\n').split('\n').length);
    lines.push(`export const f${index}: Shape<Stripe.${typeName(fixture.event.type)}> = ${JSON.stringify(fixture.event, null, 1)};`);
  });
  const file = join(dir, 'fixtures.ts');
  writeFileSync(file, lines.join('\n'));
  const program = ts.createProgram([file], {
    strict: true, noEmit: true, module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    esModuleInterop: true, skipLibCheck: true, types: [],
  });
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file || !d.file);
  mine.forEach((fixture) => { result[fixture.name] = []; });
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (!diagnostic.file) {
      throw new Error(message);
    }
    const line = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1;
    let index = starts.length - 1;
    while (index > 0 && starts[index] > line) index -= 1;
    const name = mine[index]?.name ?? 'prelude';
    (result[name] ??= []).push(message);
  }
}
process.stdout.write(JSON.stringify(result, null, 1) + '\n');
