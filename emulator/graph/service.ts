import type { Directory, DirectoryObject, TenantDirectory } from '../directory.js';
import { injectFault, type FaultSettings } from '../faults.js';
import type { AppRole, Group, User } from '../model.js';
import type { RequestLog } from '../request-log.js';
import { resourceUnits, type ResourceUnitThrottle } from '../throttle.js';
import type { AccessToken, TokenIssuer } from '../tokens.js';
import { deltaResponse } from './delta.js';
import { listResponse, parseSelect } from './query.js';
import {
  badRequest,
  forbidden,
  graphError,
  notFound,
  ok,
  text,
  throttled,
  type GraphResponse,
} from './respond.js';
import {
  DIRECTORY_OBJECT_PROPERTIES,
  GROUP_PROPERTIES,
  USER_PROPERTIES,
  groupJson,
  memberJson,
  userJson,
} from './serialize.js';

export interface GraphRequest {
  method: string;
  /** Relative to the version root, e.g. `/groups/{id}/members`; no query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body?: unknown;
}

const READ_GROUPS: AppRole[] = ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All'];
const READ_USERS: AppRole[] = ['User.Read.All', 'Directory.Read.All'];
const READ_ORGANIZATION: AppRole[] = ['Organization.Read.All', 'Directory.Read.All'];
// Casts by their full name or the `graph.` alias Microsoft's SDKs send (`/members/graph.user`).
const CASTS: Record<string, DirectoryObject['kind']> = {
  'microsoft.graph.user': 'user',
  'microsoft.graph.group': 'group',
  'microsoft.graph.device': 'device',
  'microsoft.graph.orgContact': 'orgContact',
  'graph.user': 'user',
  'graph.group': 'group',
  'graph.device': 'device',
  'graph.orgContact': 'orgContact',
};

/** `delta`, `microsoft.graph.delta`, and both in function-call form (`delta()`), as SDKs send them. */
const DELTA_SEGMENTS = new Set(['delta', 'microsoft.graph.delta', 'delta()', 'microsoft.graph.delta()', 'graph.delta', 'graph.delta()']);

/** Microsoft Graph v1.0 over the emulated directory: one request in, one response out. */
export class GraphService {
  constructor(
    private readonly directory: Directory,
    private readonly tokens: TokenIssuer,
    private readonly throttle: ResourceUnitThrottle,
    private readonly faults: FaultSettings,
    private readonly log: RequestLog,
  ) {}

  handle(request: GraphRequest, baseUrl: string, batchOf?: number): GraphResponse {
    const started = Date.now();
    const clientRequestId = request.headers['client-request-id'];
    // Filled in as the request is understood; the log line reports what was known.
    const known: { tenantId?: string; units?: number } = {};
    const finish = (response: GraphResponse): GraphResponse => {
      response.headers['client-request-id'] ??= clientRequestId ?? '';
      if (known.units !== undefined) response.headers['x-ms-resource-unit'] = String(known.units);
      const retryAfter = response.headers['Retry-After'];
      this.log.add({
        host: 'graph',
        method: request.method,
        path: `${request.path}${request.query.size > 0 ? `?${request.query.toString()}` : ''}`,
        status: response.status,
        tenantId: known.tenantId,
        resourceUnits: known.units,
        retryAfterSeconds: retryAfter === undefined ? undefined : Number(retryAfter),
        batchOf,
        durationMs: Date.now() - started,
      });
      return response;
    };

    const authorized = this.authorize(request.headers);
    if ('status' in authorized) return finish(authorized);
    const { token, tenant } = authorized;
    known.tenantId = tenant.id;
    tenant.purgeExpired(); // the recycle bin keeps deleted users 30 days

    if (request.method !== 'GET') {
      return finish(graphError(405, 'Request_BadRequest', `The emulator serves reads only; ${request.method} is not supported.`, clientRequestId));
    }

    const units = resourceUnits({
      path: request.path,
      hasSelect: request.query.has('$select'),
      hasExpand: request.query.has('$expand'),
      top: request.query.has('$top') ? Number(request.query.get('$top')) : undefined,
    });
    known.units = units;
    const fault = injectFault(this.faults, `${request.path}?${request.query.toString()}`);
    if (fault?.status === 429) return finish(throttled(fault.retryAfterSeconds ?? 1, clientRequestId));
    // Replication lag: Graph answers an object it has not replicated yet as not found.
    if (fault?.status === 404) return finish(graphError(404, 'Request_ResourceNotFound', `Resource '${request.path.split('/').pop() ?? ''}' does not exist or one of its queried reference-property objects are not present.`, clientRequestId, {}));
    if (fault) {
      const headers: Record<string, string> = fault.retryAfterSeconds ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
      const code = fault.status === 504 ? 'GatewayTimeout' : fault.status === 503 ? 'ServiceUnavailable' : 'InternalServerError';
      return finish(graphError(fault.status, code, 'The service is temporarily unavailable (injected by the emulator).', clientRequestId, headers));
    }
    if (this.faults.throttling) {
      this.throttle.budgetFactor = this.faults.budgetFactor;
      const decision = this.throttle.take(token.appId, tenant, units);
      if (!decision.allowed) {
        const scope = decision.scope === 'tenant' ? `Tenant_Application/ReadWrite/${token.appId}/${tenant.id}` : `Application/ReadWrite/${token.appId}`;
        return finish(throttled(decision.retryAfterSeconds, clientRequestId, scope));
      }
      const response = this.route(request, baseUrl, tenant, token);
      if (decision.percentUsed >= 0.8) response.headers['x-ms-throttle-limit-percentage'] = (decision.percentUsed).toFixed(1);
      return finish(response);
    }
    return finish(this.route(request, baseUrl, tenant, token));
  }

  /** 401 InvalidAuthenticationToken for a missing, expired, revoked or foreign token. */
  authorize(headers: GraphRequest['headers']): { token: AccessToken; tenant: TenantDirectory } | GraphResponse {
    const clientRequestId = headers['client-request-id'];
    const authorization = headers.authorization;
    if (authorization === undefined || !/^Bearer\s+\S/i.test(authorization)) {
      return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', clientRequestId);
    }
    const token = this.tokens.verify(authorization.replace(/^Bearer\s+/i, ''));
    if (!token) return graphError(401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.', clientRequestId);
    const tenant = this.directory.findTenant(token.tenantId);
    if (!tenant) return graphError(401, 'InvalidAuthenticationToken', 'Invalid tenant for this token.', clientRequestId);
    return { token, tenant };
  }

  /** Logs the outer $batch request; its items are logged one by one with batchOf set. */
  logBatch(status: number, tenantId: string | undefined, durationMs: number): number {
    return this.log.add({ host: 'graph', method: 'POST', path: '/$batch', status, tenantId, durationMs });
  }

  private route(request: GraphRequest, baseUrl: string, tenant: TenantDirectory, token: AccessToken): GraphResponse {
    const segments = request.path.split('/').filter(Boolean).map(decodeURIComponent);
    const clientRequestId = request.headers['client-request-id'];
    const eventual = request.headers.consistencylevel?.toLowerCase() === 'eventual';
    const has = (roles: AppRole[]) => roles.some((role) => token.roles.includes(role));
    const listRequest = (collection: string) => ({
      query: request.query,
      eventual,
      clientRequestId,
      collectionUrl: `${baseUrl}/${collection}`,
      emptyFirstPage: this.faults.emptyFirstPages || tenant.tenant.settings.emptyFirstPages === true,
    });
    const [root, id, relation, ...rest] = segments;

    if (root === 'organization') {
      if (!has(READ_ORGANIZATION)) return forbidden(clientRequestId);
      const organization = organizationJson(tenant);
      if (id === undefined) return ok({ '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#organization', value: [organization] });
      if (id.toLowerCase() !== tenant.id.toLowerCase()) return notFound(id, clientRequestId);
      return ok({ '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#organization/$entity', ...organization });
    }

    if ((root === 'groups' || root === 'users') && id !== undefined && DELTA_SEGMENTS.has(id) && relation === undefined) {
      if (!has(root === 'groups' ? READ_GROUPS : READ_USERS)) return forbidden(clientRequestId);
      return deltaResponse(root, tenant, request.query, baseUrl, request.headers, { tokenLifetimeMs: this.faults.deltaTokenLifetimeSeconds * 1000, expiredAnswer: tenant.tenant.settings.deltaExpiredAnswer ?? this.faults.deltaExpiredAnswer, emptyFirstPage: this.faults.emptyFirstPages || tenant.tenant.settings.emptyFirstPages === true, readsHidden: has(['Member.Read.Hidden']) });
    }

    if (root === 'groups') {
      if (!has(READ_GROUPS)) return forbidden(clientRequestId);
      if (id === undefined || id === '$count') {
        if (id === '$count') return countOrRefuse(tenant.visibleGroups().length, eventual, clientRequestId);
        return listResponse(tenant.visibleGroups(), groupShape, listRequest('groups'));
      }
      const group = tenant.groups.get(id);
      if (!group || tenant.lagging(group.id)) return notFound(id, clientRequestId);
      if (relation === undefined) {
        const selected = parseSelect(request.query, GROUP_PROPERTIES, 'microsoft.graph.group', clientRequestId);
        if ('error' in selected) return selected.error!;
        return ok({ '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#groups/$entity', ...groupJson(group, selected.select) });
      }
      if (relation !== 'members' && relation !== 'transitiveMembers') {
        return badRequest(`Resource not found for the segment '${relation}'.`, clientRequestId);
      }
      return this.members(tenant, group, relation, rest, listRequest(`groups/${id}/${[relation, ...rest].join('/')}`), has, clientRequestId, eventual);
    }

    if (root === 'users') {
      if (!has(READ_USERS)) return forbidden(clientRequestId);
      // A user still replicating is neither listed, counted nor found by id (its memberships already show).
      if (id === undefined) return listResponse(tenant.visibleUsers(), userShape, listRequest('users'));
      if (id === '$count') return countOrRefuse(tenant.visibleUsers().length, eventual, clientRequestId);
      const user = tenant.users.get(id) ?? [...tenant.users.values()].find((candidate) => candidate.userPrincipalName.toLowerCase() === id.toLowerCase());
      if (!user || tenant.lagging(user.id)) return notFound(id, clientRequestId);
      // The groups the user is a direct member of (directory roles and administrative units are not emulated).
      if (relation === 'memberOf' && rest.length === 0) return listResponse(tenant.groupsOf(user.id), memberOfShape, listRequest(`users/${id}/memberOf`));
      if (relation !== undefined) return badRequest(`Resource not found for the segment '${relation}'.`, clientRequestId);
      const selected = parseSelect(request.query, USER_PROPERTIES, 'microsoft.graph.user', clientRequestId);
      if ('error' in selected) return selected.error!;
      return ok({ '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity', ...userJson(user, selected.select) });
    }

    return badRequest(`Resource not found for the segment '${root ?? ''}'.`, clientRequestId);
  }

  private members(
    tenant: TenantDirectory,
    group: Group,
    relation: 'members' | 'transitiveMembers',
    rest: string[],
    list: Parameters<typeof listResponse>[2],
    has: (roles: AppRole[]) => boolean,
    clientRequestId: string | undefined,
    eventual: boolean,
  ): GraphResponse {
    let cast: DirectoryObject['kind'] | undefined;
    let countSegment = false;
    for (const segment of rest) {
      if (segment === '$count') countSegment = true;
      else if (CASTS[segment] !== undefined && cast === undefined && !countSegment) cast = CASTS[segment];
      else return badRequest(`Resource not found for the segment '${segment}'.`, clientRequestId);
    }
    // A cast on transitiveMembers is an advanced query: Graph wants ConsistencyLevel: eventual and $count=true.
    if (relation === 'transitiveMembers' && cast !== undefined && !countSegment && !(eventual && list.query.get('$count') === 'true')) {
      return graphError(400, 'Request_UnsupportedQuery', 'The specified type cast on transitiveMembers requires the ConsistencyLevel header set to eventual and $count=true.', clientRequestId);
    }
    if (cast === 'group' && group.groupTypes.includes('Unified')) {
      return graphError(400, 'Request_UnsupportedQuery', 'The specified type cast is not supported for this query.', clientRequestId);
    }

    let members = relation === 'members' ? tenant.directMembers(group) : tenant.transitiveMembers(group);
    const hidden = group.visibility?.toLowerCase() === 'hiddenmembership' && !has(['Member.Read.Hidden']);
    if (hidden) {
      // Observed on Graph: without Member.Read.Hidden the members are withheld, silently or with a 403.
      if (tenant.tenant.settings.hiddenMembership === 'forbidden') return forbidden(clientRequestId);
      members = [];
    }
    if (cast !== undefined) members = members.filter((member) => member.kind === cast);
    if (countSegment) return countOrRefuse(members.length, eventual, clientRequestId);

    const canReadUsers = has(READ_USERS);
    return listResponse(
      members,
      {
        context: cast === undefined ? 'directoryObjects' : `${cast}s`,
        entity: cast === undefined ? 'DirectoryObject' : cast[0]!.toUpperCase() + cast.slice(1),
        odataType: cast === undefined ? 'microsoft.graph.directoryObject' : `microsoft.graph.${cast}`,
        selectable: DIRECTORY_OBJECT_PROPERTIES,
        filterable: new Set(['id', 'displayName', 'mail', 'userPrincipalName', 'accountEnabled', 'userType']),
        record: (member) => member.value as unknown as Record<string, unknown>,
        toJson: (member, select) => memberJson(member, select, canReadUsers),
      },
      list,
    );
  }
}

const groupShape = {
  context: 'groups',
  entity: 'Group',
  odataType: 'microsoft.graph.group',
  selectable: GROUP_PROPERTIES,
  filterable: new Set(['id', 'displayName', 'description', 'mail', 'mailEnabled', 'mailNickname', 'securityEnabled', 'groupTypes', 'visibility']),
  record: (group: Group) => group as unknown as Record<string, unknown>,
  toJson: groupJson,
};

const memberOfShape = {
  ...groupShape,
  context: 'directoryObjects',
  entity: 'DirectoryObject',
  odataType: 'microsoft.graph.directoryObject',
  toJson: (group: Group, select?: string[]) => ({ '@odata.type': '#microsoft.graph.group', ...groupJson(group, select) }),
};

const userShape = {
  context: 'users',
  entity: 'User',
  odataType: 'microsoft.graph.user',
  selectable: USER_PROPERTIES,
  filterable: new Set(['id', 'displayName', 'mail', 'userPrincipalName', 'accountEnabled', 'userType', 'givenName', 'surname', 'jobTitle', 'department']),
  record: (user: User) => user as unknown as Record<string, unknown>,
  toJson: userJson,
};

function countOrRefuse(count: number, eventual: boolean, clientRequestId?: string): GraphResponse {
  if (!eventual) return badRequest('$count is not currently supported.', clientRequestId);
  return text(String(count));
}

function organizationJson(tenant: TenantDirectory): Record<string, unknown> {
  return {
    id: tenant.id,
    deletedDateTime: null,
    businessPhones: [],
    city: null,
    country: null,
    countryLetterCode: 'US',
    createdDateTime: '2020-01-01T00:00:00Z',
    defaultUsageLocation: 'US',
    displayName: tenant.tenant.displayName,
    isMultipleDataLocationsForServicesEnabled: null,
    marketingNotificationEmails: [],
    onPremisesLastSyncDateTime: null,
    onPremisesSyncEnabled: null,
    partnerTenantType: null,
    postalCode: null,
    preferredLanguage: 'en',
    securityComplianceNotificationMails: [],
    securityComplianceNotificationPhones: [],
    state: null,
    street: null,
    technicalNotificationMails: [],
    tenantType: 'AAD',
    directorySizeQuota: { used: tenant.users.size + tenant.groups.size, total: 50_000 },
    assignedPlans: [],
    privacyProfile: { contactEmail: '', statementUrl: '' },
    provisionedPlans: [],
    verifiedDomains: tenant.tenant.verifiedDomains,
  };
}
