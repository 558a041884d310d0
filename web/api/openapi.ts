import { z } from 'zod';
import { ConnectionList, ConnectionSchema, ErrorSchema, EventPage, EventSchema, EventsQuery, FeedCursor, GroupPage, GroupSchema, GroupsQuery, MembersQuery, UserPage, UserSchema, UsersQuery } from './schemas.js';

type Json = Record<string, unknown>;

const COMPONENTS = [ConnectionList, GroupPage, UserPage, EventPage, FeedCursor, ConnectionSchema, GroupSchema, UserSchema, EventSchema, ErrorSchema];
const withoutId = ({ id: _id, $id: _uri, $schema: _schema, ...rest }: Json) => rest;

const ref = (schema: z.ZodType) => ({ $ref: `#/components/schemas/${String(z.globalRegistry.get(schema)?.id)}` });
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema: ref(schema) } } });
const errors = {
  '400': json(ErrorSchema, 'A parameter is not valid; the message names it'),
  '401': json(ErrorSchema, 'No API key, or one that is not valid (revoked)'),
};
const notFound = { '404': json(ErrorSchema, "Not found, or not this key's org") };

/** The query parameters of a zod query schema, as OpenAPI parameters. */
function parameters(schema: z.ZodObject): Json[] {
  const shape = z.toJSONSchema(schema, { io: 'input' }) as { properties: Record<string, Json> };
  return Object.entries(shape.properties).map(([name, property]) => ({ name, in: 'query', required: false, schema: property }));
}
const pathId = (what: string) => ({ name: 'id', in: 'path', required: true, description: `Hook's ${what} id`, schema: { type: 'string', format: 'uuid' } });

/** The OpenAPI 3.1 document of /api/v1, built from the same zod schemas the handlers answer with. */
export function openApiDocument(publicUrl: string): Json {
  // Every schema with an id (.meta({ id })) becomes a component, referring to the others by $ref.
  const { schemas } = z.toJSONSchema(z.globalRegistry, { target: 'draft-2020-12', uri: (id) => `#/components/schemas/${id}` });
  const components = Object.fromEntries(COMPONENTS.map((schema) => { const id = String(z.globalRegistry.get(schema)?.id); return [id, withoutId(schemas[id] as Json)]; }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Hook directory API',
      version: '1',
      description: 'The synced Microsoft Entra directory of an org, read-only. Authenticate with an API key an org admin creates in Settings → API keys.',
    },
    servers: [{ url: `${publicUrl}/api/v1` }],
    security: [{ apiKey: [] }],
    paths: {
      '/connections': { get: { operationId: 'listConnections', summary: "The org's Entra connections", responses: { '200': json(ConnectionList, 'Every connection'), ...errors } } },
      '/connections/{id}': { get: { operationId: 'getConnection', parameters: [pathId('connection')], responses: { '200': json(ConnectionSchema, 'The connection'), ...errors, ...notFound } } },
      '/groups': { get: { operationId: 'listGroups', summary: 'Synced groups', parameters: parameters(GroupsQuery), responses: { '200': json(GroupPage, 'A page of groups'), ...errors, ...notFound } } },
      '/groups/{id}': { get: { operationId: 'getGroup', parameters: [pathId('group')], responses: { '200': json(GroupSchema, 'The group'), ...errors, ...notFound } } },
      '/groups/{id}/members': {
        get: { operationId: 'listGroupMembers', summary: "A group's active members, nested groups' included", parameters: [pathId('group'), ...parameters(MembersQuery)], responses: { '200': json(UserPage, 'A page of users'), ...errors, ...notFound } },
      },
      '/users': { get: { operationId: 'listUsers', summary: 'Synced users, each once', parameters: parameters(UsersQuery), responses: { '200': json(UserPage, 'A page of users'), ...errors, ...notFound } } },
      '/users/{id}': { get: { operationId: 'getUser', parameters: [pathId('user')], responses: { '200': json(UserSchema, 'The user, active or removed'), ...errors, ...notFound } } },
      '/events': {
        get: {
          operationId: 'listEvents',
          summary: 'Changes to the directory, oldest first, kept 30 days',
          parameters: parameters(EventsQuery),
          responses: { '200': json(EventPage, 'A page of events'), ...errors, ...notFound, '410': json(ErrorSchema, 'The cursor is older than the events kept: start again from a fresh read') },
        },
      },
      '/events/cursor': { get: { operationId: 'getEventsCursor', summary: 'The end of the feed now', responses: { '200': json(FeedCursor, 'A cursor'), ...errors } } },
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An org API key, hds_…' } },
      schemas: components,
    },
  };
}
