import { z } from 'zod';

// The directory API's shapes, one source for the responses, the query checks and the OpenAPI
// document (web/api/openapi.ts builds it from these with z.toJSONSchema).

const timestamp = z.iso.datetime({ offset: true }).meta({ description: 'RFC 3339 time' });

export const ConnectionSchema = z
  .object({
    id: z.guid(),
    tenantId: z.guid().meta({ description: 'The Microsoft Entra tenant id' }),
    tenantName: z.string(),
    status: z.enum(['connected', 'needs_reconnect', 'disconnected']),
    syncStatus: z.enum(['idle', 'running', 'needs_reconnect', 'awaiting_confirmation', 'failing']),
    lastSyncAt: timestamp.nullable(),
    userCount: z.int().meta({ description: 'Active (enabled) synced users' }),
  })
  .meta({ id: 'Connection' });

export const GroupSchema = z
  .object({
    id: z.guid().meta({ description: "Hook's id for the synced group" }),
    entraId: z.guid().meta({ description: 'The group object id in Microsoft Entra' }),
    connectionId: z.guid(),
    name: z.string(),
    type: z.string().nullable().meta({ description: 'Security, Microsoft 365, Mail-enabled security, Distribution; null until first read' }),
    memberCount: z.int().nullable().meta({ description: 'Users in the group, nested groups included; null until first read' }),
    status: z.enum(['ok', 'failing', 'missing', 'pending']).meta({ description: 'pending: not read yet; failing: its last read failed (members kept); missing: deleted in Entra, members kept for the grace period' }),
    lastSyncedAt: timestamp.nullable(),
    lastError: z.string().nullable(),
  })
  .meta({ id: 'Group' });

export const UserSchema = z
  .object({
    id: z.guid().meta({ description: "Hook's id for the user" }),
    entraId: z.guid().meta({ description: 'The user object id in Microsoft Entra' }),
    connectionId: z.guid(),
    displayName: z.string().nullable(),
    email: z.string().nullable(),
    userPrincipalName: z.string().nullable(),
    isGuest: z.boolean(),
    isDisabled: z.boolean(),
    isSharedMailbox: z.boolean().meta({ description: 'A disabled account with a mailbox: likely a shared mailbox' }),
    status: z.enum(['active', 'removed']),
    groups: z.array(z.guid()).meta({ description: "Hook ids of the synced groups the user is in (nested membership included); empty once removed" }),
    updatedAt: timestamp,
    removedAt: timestamp.nullable(),
  })
  .meta({ id: 'User' });

/** Every kind of event the feed carries (written by migration 0013's triggers). */
export const EVENT_TYPES = [
  'user.added',
  'user.updated',
  'user.deactivated',
  'user.reactivated',
  'user.removed',
  'group.added',
  'group.renamed',
  'group.removed',
  'membership.added',
  'membership.removed',
  'sync.failed',
  'sync.recovered',
  'sync.awaiting_confirmation',
  'sync.consent_revoked',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const EventSchema = z
  .object({
    id: z.string().meta({ description: 'Unique and stable: a delivery repeated carries the same id' }),
    cursor: z.string().meta({ description: 'Pass as `after` to read on from just after this event' }),
    type: z.enum(EVENT_TYPES),
    occurredAt: timestamp,
    connectionId: z.guid(),
    runId: z.guid().nullable().meta({ description: 'The sync cycle that made the change; null for an admin action (a saved selection, a disconnect)' }),
    data: z.record(z.string(), z.unknown()).meta({
      description:
        'user.*: `user` (its state now, as in User without groups), `changes` for user.updated ({field: {from, to}}), `returning` for user.added (true: back after a removal, same id). group.*: `group` ({id, entraId, connectionId, name}), `changes` for group.renamed. membership.*: `group` and `user` ({id, entraId}). sync.*: `connection` and `previousSyncStatus`.',
    }),
  })
  .meta({ id: 'Event' });

export const EventPage = z
  .object({
    data: z.array(EventSchema),
    nextCursor: z.string().meta({ description: 'Pass as `after` to read on; when `hasMore` is false, poll again later with it' }),
    hasMore: z.boolean(),
  })
  .meta({ id: 'EventPage' });

export const FeedCursor = z.object({ cursor: z.string().meta({ description: 'The end of the feed now: read users, then follow events from here' }) }).meta({ id: 'FeedCursor' });

export const ErrorSchema = z
  .object({ error: z.object({ code: z.enum(['unauthorized', 'not_found', 'invalid_request', 'cursor_expired', 'internal']), message: z.string() }) })
  .meta({ id: 'Error' });

export const page = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable().meta({ description: 'Pass as `after` for the next page; null on the last page' }) }).meta({ id });

export const ConnectionList = z.object({ data: z.array(ConnectionSchema) }).meta({ id: 'ConnectionList' });
export const GroupPage = page(GroupSchema, 'GroupPage');
export const UserPage = page(UserSchema, 'UserPage');

export const MAX_LIMIT = 500;
const limit = z.coerce.number({ error: `limit must be a whole number from 1 to ${MAX_LIMIT}` }).int(`limit must be a whole number from 1 to ${MAX_LIMIT}`).min(1, `limit must be a whole number from 1 to ${MAX_LIMIT}`).max(MAX_LIMIT, `limit must be a whole number from 1 to ${MAX_LIMIT}`).default(100);
const after = z.string().max(200, 'after must be a cursor from a previous page').optional();

export const GroupsQuery = z.strictObject({
  connection: z.guid('connection must be a connection id').optional(),
  status: z.enum(['ok', 'failing', 'missing', 'pending'], { error: 'status must be ok, failing, missing or pending' }).optional(),
  limit,
  after,
});

export const MembersQuery = z.strictObject({ limit, after });

export const UsersQuery = z.strictObject({
  connection: z.guid('connection must be a connection id').optional(),
  group: z.guid('group must be a group id').optional(),
  status: z.enum(['active', 'removed', 'all'], { error: 'status must be active, removed or all' }).default('active'),
  updatedSince: z.iso.datetime({ offset: true, error: 'updatedSince must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z' }).optional(),
  search: z.string().trim().min(1, 'search must not be empty').max(200, 'search must be at most 200 characters').optional(),
  limit,
  after,
});

export const EVENT_RETENTION_DAYS = 30;

export const EventsQuery = z.strictObject({
  after: z.string().max(200, 'after must be a cursor from the feed').optional(),
  connection: z.guid('connection must be a connection id').optional(),
  types: z
    .string()
    .max(1_000, 'types is too long')
    .transform((value) => value.split(',').map((type) => type.trim()))
    .pipe(z.array(z.enum(EVENT_TYPES, { error: `types must be a comma-separated list of: ${EVENT_TYPES.join(', ')}` })))
    .optional(),
  limit,
});

export type ApiUser = z.infer<typeof UserSchema>;
export type ApiEvent = z.infer<typeof EventSchema>;
export type ApiGroup = z.infer<typeof GroupSchema>;
export type ApiConnection = z.infer<typeof ConnectionSchema>;
