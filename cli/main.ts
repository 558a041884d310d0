import '../lib/require-node.js';
import { parseArgs } from 'node:util';
import { createDb } from '../db/client.js';
import { loadConfigOrExit } from '../lib/config.js';
import { addAccountCommand, CliError, createOrgCommand } from './commands.js';

const USAGE = `Usage: npm run cli -- <command> [options]
  create-org  --slug acme --name "Acme Ltd"
  add-admin   --org acme --email ada@acme.example --name "Ada Lovelace"   (password from HOOK_PASSWORD for a new account)
  add-member  --org acme --email bob@acme.example --name "Bob"`;

/** `npm run cli -- …`: creates orgs and their admins for real deployments (DATABASE_URL). */
const config = loadConfigOrExit('DATABASE_URL');
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { slug: { type: 'string' }, name: { type: 'string' }, org: { type: 'string' }, email: { type: 'string' } },
});
const [command] = positionals;
const db = createDb(config.DATABASE_URL, { max: 1 });
try {
  const need = (name: keyof typeof values) => {
    const value = values[name];
    if (value === undefined || value === '') throw new CliError(`--${name} is required\n${USAGE}`);
    return value;
  };
  if (command === 'create-org') {
    const id = await createOrgCommand(db, need('slug'), need('name'));
    console.log(`Created org ${values.slug} (${id}).`);
  } else if (command === 'add-admin' || command === 'add-member') {
    const result = await addAccountCommand(db, {
      orgSlug: need('org'),
      email: need('email'),
      displayName: values.name ?? need('email'),
      role: command === 'add-admin' ? 'admin' : 'member',
      password: process.env.HOOK_PASSWORD,
    });
    console.log(`${result.created ? 'Created' : 'Updated'} ${values.email} as ${command === 'add-admin' ? 'admin' : 'member'} of ${values.org}.`);
  } else {
    throw new CliError(USAGE);
  }
} catch (error) {
  console.error(error instanceof CliError ? error.message : error);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
