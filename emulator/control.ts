import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { EmulatorState } from './app.js';
import { NotFound, type TenantDirectory } from './directory.js';
import { GRAPH_APP_ROLES, WorldError, groupSchema, userSchema } from './model.js';
import { DELTA_EXPIRED_ANSWERS } from './faults.js';

const ids = z.array(z.string().min(1)).max(10_000);
const patchGroup = z
  .object({
    displayName: z.string().min(1),
    description: z.string().nullable(),
    visibility: z.enum(['Public', 'Private', 'HiddenMembership']).nullable(),
  })
  .partial()
  .strict();
const patchUser = userSchema.omit({ id: true }).partial().strict();

/**
 * A PATCH changes only what it names, as Graph's does: zod fills the schema's defaults in for
 * absent keys (mail: null, …), which must not overwrite the stored values.
 */
function onlyNamed<T extends object>(parsed: T, body: unknown): Partial<T> {
  const named = new Set(Object.keys(body !== null && typeof body === 'object' ? body : {}));
  return Object.fromEntries(Object.entries(parsed).filter(([key]) => named.has(key))) as Partial<T>;
}
const consent = z.discriminatedUnion('action', [
  z.object({ action: z.literal('grant'), appId: z.string() }),
  z.object({
    action: z.literal('revoke'),
    appId: z.string(),
    mode: z.enum(['delete-service-principal', 'remove-permissions']).default('delete-service-principal'),
    /** Also invalidate tokens already issued (a real token lives on until it expires). */
    invalidateTokens: z.boolean().default(true),
  }),
  z.object({ action: z.literal('set-permissions'), appId: z.string(), appRoles: z.array(z.enum(GRAPH_APP_ROLES)) }),
]);
const settings = z
  .object({ canGrantTenantWideConsent: z.boolean(), hiddenMembership: z.enum(['silent', 'forbidden']), usersCanConsent: z.boolean(), deltaMembersPerObject: z.number().int().min(1), replicationLagSeconds: z.number().min(0).max(600), emptyFirstPages: z.boolean(), deltaRepeatsUsers: z.boolean(), deltaExpiredAnswer: z.enum(DELTA_EXPIRED_ANSWERS) })
  .partial()
  .strict();
const faults = z
  .object({
    latencyMs: z.number().int().min(0).max(60_000),
    latencyPerBatchItemMs: z.number().int().min(0).max(10_000),
    latencyJitterMs: z.number().int().min(0).max(10_000),
    rate429: z.number().min(0).max(1),
    rate503: z.number().min(0).max(1),
    rate504: z.number().min(0).max(1),
    throttling: z.boolean(),
    budgetFactor: z.number().positive().max(100),
    deltaTokenLifetimeSeconds: z.number().int().min(1).max(30 * 24 * 60 * 60),
    graphUnreachable: z.boolean(),
    deltaExpiredAnswer: z.enum(DELTA_EXPIRED_ANSWERS),
    emptyFirstPages: z.boolean(),
    rules: z.array(
      z.object({
        path: z.string().min(1),
        status: z.union([z.literal(404), z.literal(429), z.literal(500), z.literal(502), z.literal(503), z.literal(504)]),
        times: z.number().int().min(1),
        retryAfterSeconds: z.number().int().min(0).optional(),
      }),
    ),
  })
  .partial()
  .strict();

/**
 * The control API for tests and demos, mounted only when the emulator was started for it:
 * change the directory, consent and settings while clients run, inject latency, faults and
 * throttling, and read the request log. Bodies are validated; errors say what is wrong.
 */
export function controlRoutes(state: EmulatorState): Router {
  const router = Router();
  router.use(express.json({ limit: '64mb' }));
  const tenant = (req: Request): TenantDirectory => {
    const found = state.directory.findTenant(String(req.params.tenant));
    if (!found) throw new NotFound(`no tenant ${String(req.params.tenant)}`);
    return found;
  };

  router.get('/tenants', (_req, res) => {
    res.json(
      state.directory.allTenants().map((directory) => ({
        id: directory.id,
        displayName: directory.tenant.displayName,
        users: directory.users.size,
        groups: directory.groups.size,
        servicePrincipals: directory.tenant.servicePrincipals,
      })),
    );
  });
  router.post('/tenants', (req, res) => {
    const directory = state.directory.addTenant(req.body);
    res.status(201).json({ id: directory.id });
  });
  router.post('/tenants/:tenant/groups', (req, res) => {
    tenant(req).createGroup(groupSchema.parse(req.body));
    res.status(201).end();
  });
  router.patch('/tenants/:tenant/groups/:group', (req, res) => {
    res.json(tenant(req).updateGroup(req.params.group, onlyNamed(patchGroup.parse(req.body), req.body)));
  });
  // A Microsoft 365 group to the recycle bin, any other for good; `?permanently=true` skips the bin.
  router.delete('/tenants/:tenant/groups/:group', (req, res) => {
    tenant(req).deleteGroup(req.params.group, { permanently: req.query.permanently === 'true' });
    res.status(204).end();
  });
  router.post('/tenants/:tenant/groups/:group/members', (req, res) => {
    const body = z.object({ add: ids.default([]), remove: ids.default([]) }).strict().parse(req.body);
    const directory = tenant(req);
    if (body.add.length > 0) directory.addMembers(req.params.group, body.add);
    if (body.remove.length > 0) directory.removeMembers(req.params.group, body.remove);
    res.json({ members: directory.groups.get(req.params.group)?.members.length ?? 0 });
  });
  router.post('/tenants/:tenant/users', (req, res) => {
    tenant(req).createUser(userSchema.parse(req.body));
    res.status(201).end();
  });
  router.patch('/tenants/:tenant/users/:user', (req, res) => {
    res.json(tenant(req).updateUser(req.params.user, onlyNamed(patchUser.parse(req.body), req.body)));
  });
  // To the recycle bin; `?permanently=true` deletes for good.
  router.delete('/tenants/:tenant/users/:user', (req, res) => {
    tenant(req).deleteUser(req.params.user, { permanently: req.query.permanently === 'true' });
    res.status(204).end();
  });
  router.post('/tenants/:tenant/deleted-groups/:group/restore', (req, res) => {
    tenant(req).restoreGroup(req.params.group);
    res.status(204).end();
  });
  router.delete('/tenants/:tenant/deleted-groups/:group', (req, res) => {
    tenant(req).purgeGroup(req.params.group);
    res.status(204).end();
  });
  router.post('/tenants/:tenant/deleted-users/:user/restore', (req, res) => {
    tenant(req).restoreUser(req.params.user);
    res.status(204).end();
  });
  router.delete('/tenants/:tenant/deleted-users/:user', (req, res) => {
    tenant(req).purgeUser(req.params.user);
    res.status(204).end();
  });
  router.post('/tenants/:tenant/consent', (req, res) => {
    const body = consent.parse(req.body);
    const directory = tenant(req);
    if (body.action === 'grant') {
      const app = state.directory.application(body.appId);
      if (!app) throw new NotFound(`no application ${body.appId}`);
      directory.grantConsent(app);
    } else if (body.action === 'revoke') {
      directory.revokeConsent(body.appId, body.mode);
      if (body.invalidateTokens) state.tokens.revokeTenant(directory.id);
    } else {
      directory.setPermissions(body.appId, body.appRoles);
      state.tokens.revokeTenant(directory.id);
    }
    res.json({ servicePrincipals: directory.tenant.servicePrincipals });
  });
  router.patch('/tenants/:tenant/settings', (req, res) => {
    const directory = tenant(req);
    Object.assign(directory.tenant.settings, settings.parse(req.body));
    res.json(directory.tenant.settings);
  });

  router.get('/faults', (_req, res) => {
    res.json(state.faults);
  });
  router.patch('/faults', (req, res) => {
    Object.assign(state.faults, faults.parse(req.body));
    state.throttle.reset();
    res.json(state.faults);
  });
  router.put('/token-lifetime', (req, res) => {
    state.tokens.lifetimeSeconds = z.object({ seconds: z.number().int().min(1).max(86_400) }).parse(req.body).seconds;
    res.json({ seconds: state.tokens.lifetimeSeconds });
  });
  router.get('/requests', (req, res) => {
    res.json(state.log.since(z.coerce.number().int().min(0).default(0).parse(req.query.since)));
  });
  router.delete('/requests', (_req, res) => {
    state.log.clear();
    res.status(204).end();
  });

  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof z.ZodError) {
      const issue = error.issues[0]!;
      res.status(400).json({ error: `${issue.path.join('.') || 'body'}: ${issue.message}` });
    } else if (error instanceof NotFound) res.status(404).json({ error: error.message });
    else if (error instanceof WorldError) res.status(400).json({ error: error.message });
    else if (error instanceof SyntaxError) res.status(400).json({ error: `malformed JSON: ${error.message}` });
    else res.status(500).json({ error: String(error) });
  });
  return router;
}
