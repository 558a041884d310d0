import { ESLint } from 'eslint';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';

// The lint rules that keep workflow code deterministic, checked against code that breaks them.
describe('lint rules for workflows/', () => {
  const eslint = new ESLint({ cwd: projectRoot });
  const file = path.join(projectRoot, 'workflows', 'index.ts');

  async function messages(code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: file });
    return (result?.messages ?? []).map((message) => `${message.ruleId}: ${message.message}`);
  }

  it.each([
    "import { readFile } from 'node:fs';\nexport const x = readFile;\n",
    "import crypto from 'crypto';\nexport const x = crypto;\n",
    "import { createDb } from '../db/client.js';\nexport const x = createDb;\n",
    "import { createActivities } from '../activities/index.js';\nexport const x = createActivities;\n",
    "import { createApp } from '../web/app.js';\nexport const x = createApp;\n",
  ])('refuses a value import: %s', async (code) => {
    expect((await messages(code)).join('\n')).toMatch(/no-restricted-imports/);
  });

  it('allows type-only imports from I/O layers', async () => {
    expect(await messages("import type { Activities } from '../activities/index.js';\nexport type A = Activities;\n")).toEqual([]);
  });

  it('refuses a floating promise anywhere', async () => {
    const [result] = await eslint.lintText('async function f() {}\nexport function g() {\n  f();\n}\n', {
      filePath: path.join(projectRoot, 'web', 'app.ts'),
    });
    expect(result?.messages.map((message) => message.ruleId)).toContain('@typescript-eslint/no-floating-promises');
  });
});
