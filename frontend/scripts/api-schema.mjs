// Generates src/api/schema.d.ts from the backend's ../openapi.json (`npm run gen:api`), or with --check
// regenerates into a temp folder and fails when the committed file is stale (`npm run check:api`).
// Both modes run the same command so a check can never disagree with a regeneration.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const spec = resolve(root, '../openapi.json');
const committed = resolve(root, 'src/api/schema.d.ts');
const cli = resolve(root, 'node_modules/openapi-typescript/bin/cli.js');
const check = process.argv.includes('--check');
// A schema default makes a field optional to send, but openapi-typescript would otherwise mark it required
// everywhere the schema is referenced (e.g. the OAuth2 form's `scope`). Responses lose nothing that matters.
const OPTIONS = ['--default-non-nullable', 'false'];
const task = check ? 'check:api' : 'gen:api';

function fail(message) {
  console.error(`\n${message}\n`);
  process.exit(1);
}

function generate(output) {
  try {
    execFileSync(process.execPath, [cli, spec, ...OPTIONS, '--output', output], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const reasons = String(error.stderr ?? '')
      .split('\n')
      .filter((line) => line.includes('✘'))
      .join('\n');
    fail(`${task}: openapi-typescript could not read ../openapi.json:\n${reasons || String(error.stderr ?? error)}`);
  }
}

if (!existsSync(spec)) {
  fail(`${task}: ${spec} does not exist; the backend generates it.`);
}

if (!check) {
  generate(committed);
  console.log(`${task}: wrote ${relative(root, committed)} from ${relative(root, spec)}`);
  process.exit(0);
}

const tempDir = mkdtempSync(join(tmpdir(), 'hearth-api-'));
try {
  const fresh = join(tempDir, 'schema.d.ts');
  generate(fresh);
  const want = readFileSync(fresh, 'utf8');
  const have = existsSync(committed) ? readFileSync(committed, 'utf8') : null;
  if (have === null) {
    fail('check:api: src/api/schema.d.ts is missing. Run `npm run gen:api` and commit the result.');
  }
  if (have !== want) {
    const haveLines = have.split('\n');
    const wantLines = want.split('\n');
    const line = wantLines.findIndex((text, i) => text !== haveLines[i]);
    const at = line === -1 ? haveLines.length : line;
    fail(
      'check:api: src/api/schema.d.ts is out of date with ../openapi.json.\n' +
        `First difference at line ${at + 1}:\n` +
        `  committed:   ${haveLines[at] ?? '<end of file>'}\n` +
        `  regenerated: ${wantLines[at] ?? '<end of file>'}\n` +
        'Run `npm run gen:api` in frontend/ and commit src/api/schema.d.ts.',
    );
  }
  console.log('check:api: src/api/schema.d.ts matches ../openapi.json');
} finally {
  rmSync(tempDir, { recursive: true, force: true });
}
