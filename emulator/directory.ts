import type { Application, AppRole, Device, Group, OrgContact, Tenant, User, World } from './model.js';
import { parseTenant } from './model.js';

export type DirectoryObject =
  | { kind: 'user'; value: User }
  | { kind: 'group'; value: Group }
  | { kind: 'device'; value: Device }
  | { kind: 'orgContact'; value: OrgContact };

/** One entry of a tenant's change log: what delta queries will replay (incremental-sync issue). */
export interface Change {
  seq: number;
  at: string;
  objectType: 'user' | 'group';
  id: string;
  /** `softDeleted`: in the recycle bin, restorable (delta `@removed` reason `changed`); `deleted`: gone for good. */
  change: 'created' | 'updated' | 'deleted' | 'softDeleted' | 'restored' | 'membersAdded' | 'membersRemoved';
  memberIds?: string[];
  /** With `updated`: the properties the change set (a delta round with `$select` reports only those). */
  properties?: string[];
}

/** A tenant's live directory: the JSON it was loaded from, mutated by the control API. */
export class TenantDirectory {
  readonly users = new Map<string, User>();
  readonly groups = new Map<string, Group>();
  readonly devices = new Map<string, Device>();
  readonly orgContacts = new Map<string, OrgContact>();
  readonly changes: Change[] = [];
  /**
   * Users in the recycle bin ("deleted items"), with when they went there. They keep their group
   * memberships, which no read shows while they are deleted and which come back with a restore;
   * after 30 days (or a purge) they are deleted for good.
   */
  readonly deletedUsers = new Map<string, Deleted<User>>();
  /** Microsoft 365 groups in the recycle bin, restorable with their members. */
  readonly deletedGroups = new Map<string, Deleted<Group>>();
  private groupsByName: Group[] | undefined;
  /** What deleted objects were, so a delta can still name the type of a removed member. */
  private readonly deletedKinds = new Map<string, 'user' | 'group'>();
  private transitive = new Map<string, DirectoryObject[]>();
  private seq = 0;
  /** When users and groups created while the emulator runs were created (epoch ms): replication lag hides them for a while. */
  private readonly createdAt = new Map<string, number>();

  constructor(public tenant: Tenant) {
    for (const user of tenant.users) this.users.set(user.id, user);
    for (const group of tenant.groups) this.groups.set(group.id, group);
    for (const device of tenant.devices) this.devices.set(device.id, device);
    for (const contact of tenant.orgContacts) this.orgContacts.set(contact.id, contact);
  }

  get id(): string {
    return this.tenant.id;
  }

  /** The change log's last position: a delta round covers the changes after its start up to this. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Graph's throttling tier: S (< 50 users), M (50–500), L (> 500). */
  get size(): 'S' | 'M' | 'L' {
    return this.users.size < 50 ? 'S' : this.users.size <= 500 ? 'M' : 'L';
  }

  /** An object created within the tenant's replication lag: not found by id, listed or counted yet. */
  lagging(objectId: string, now = Date.now()): boolean {
    const lag = this.tenant.settings.replicationLagSeconds * 1000;
    const created = this.createdAt.get(objectId);
    return lag > 0 && created !== undefined && now - created < lag;
  }

  /** Groups a read of `/groups` sees now, in name order. */
  visibleGroups(now = Date.now()): Group[] {
    return this.sortedGroups().filter((group) => !this.lagging(group.id, now));
  }

  /** Users a read of `/users` sees now. */
  visibleUsers(now = Date.now()): User[] {
    return [...this.users.values()].filter((user) => !this.lagging(user.id, now));
  }

  /** The last change a users delta round may report now: none after the first that is still replicating. */
  replicatedUntil(now = Date.now()): number {
    const first = this.changes.find((change) => change.objectType === 'user' && this.lagging(change.id, now));
    return first === undefined ? this.seq : first.seq - 1;
  }

  /** The kind of a live object, or of one deleted since the emulator started. */
  kindOf(id: string): DirectoryObject['kind'] | undefined {
    return this.object(id)?.kind ?? this.deletedKinds.get(id);
  }

  object(id: string): DirectoryObject | undefined {
    const user = this.users.get(id);
    if (user) return { kind: 'user', value: user };
    const group = this.groups.get(id);
    if (group) return { kind: 'group', value: group };
    const device = this.devices.get(id);
    if (device) return { kind: 'device', value: device };
    const contact = this.orgContacts.get(id);
    if (contact) return { kind: 'orgContact', value: contact };
    return undefined;
  }

  /** Groups in displayName order (Graph's `$orderby=displayName`), cached until a group changes. */
  sortedGroups(): Group[] {
    this.groupsByName ??= [...this.groups.values()].sort(
      (a, b) => compareText(a.displayName, b.displayName) || compareText(a.id, b.id),
    );
    return this.groupsByName;
  }

  directMembers(group: Group): DirectoryObject[] {
    return group.members.map((id) => this.object(id)).filter((member) => member !== undefined);
  }

  /** Members of nested groups flattened, each object once, nested groups themselves included. */
  transitiveMembers(group: Group): DirectoryObject[] {
    const cached = this.transitive.get(group.id);
    if (cached) return cached;
    const seen = new Set<string>([group.id]);
    const result: DirectoryObject[] = [];
    const queue = [group];
    for (let current = queue.shift(); current; current = queue.shift()) {
      for (const member of this.directMembers(current)) {
        if (seen.has(member.value.id)) continue;
        seen.add(member.value.id);
        result.push(member);
        if (member.kind === 'group') queue.push(member.value);
      }
    }
    this.transitive.set(group.id, result);
    return result;
  }

  // Mutations (control API). Each records a change for delta queries.

  addMembers(groupId: string, memberIds: string[]): void {
    const group = this.requireGroup(groupId);
    for (const id of memberIds) if (!this.object(id)) throw new NotFound(`no directory object ${id}`);
    const added = memberIds.filter((id) => !group.members.includes(id));
    group.members.push(...added);
    this.membershipChanged();
    if (added.length > 0) this.record('group', groupId, 'membersAdded', added);
  }

  removeMembers(groupId: string, memberIds: string[]): void {
    const group = this.requireGroup(groupId);
    const removed = group.members.filter((id) => memberIds.includes(id));
    group.members = group.members.filter((id) => !memberIds.includes(id));
    this.membershipChanged();
    if (removed.length > 0) this.record('group', groupId, 'membersRemoved', removed);
  }

  updateGroup(groupId: string, patch: Partial<Pick<Group, 'displayName' | 'description' | 'visibility'>>): Group {
    const group = this.requireGroup(groupId);
    Object.assign(group, patch);
    this.groupsByName = undefined;
    this.record('group', groupId, 'updated', undefined, Object.keys(patch));
    return group;
  }

  createGroup(group: Group): void {
    this.groups.set(group.id, group);
    this.createdAt.set(group.id, Date.now());
    this.groupsByName = undefined;
    this.membershipChanged();
    this.record('group', group.id, 'created');
  }

  /**
   * A Microsoft 365 group goes to the recycle bin first (restorable for 30 days, with its members);
   * a security or distribution group, or `permanently`, is deleted for good and leaves the groups
   * it was in.
   */
  deleteGroup(groupId: string, { permanently = false } = {}): void {
    this.remove('group', groupId, !permanently && this.groups.get(groupId)?.groupTypes.includes('Unified') === true);
  }

  restoreGroup(groupId: string): void {
    this.restore('group', groupId);
  }

  purgeGroup(groupId: string): void {
    this.purge('group', groupId);
  }

  createUser(user: User): void {
    this.users.set(user.id, user);
    this.createdAt.set(user.id, Date.now());
    this.record('user', user.id, 'created');
  }

  updateUser(userId: string, patch: Partial<Omit<User, 'id'>>): User {
    const user = this.users.get(userId);
    if (!user) throw new NotFound(`no user ${userId}`);
    Object.assign(user, patch);
    this.record('user', userId, 'updated', undefined, Object.keys(patch));
    return user;
  }

  /**
   * Deleting a user puts it in the recycle bin, as Entra does; `permanently` (or a purge, or 30
   * days) deletes it for good: only then does it leave its groups.
   */
  deleteUser(userId: string, { permanently = false } = {}): void {
    this.remove('user', userId, !permanently);
  }

  /** Brings a user back from the recycle bin with its memberships. */
  restoreUser(userId: string): void {
    this.restore('user', userId);
  }

  /** Deletes a user in the recycle bin for good. */
  purgeUser(userId: string): void {
    this.purge('user', userId);
  }

  // The recycle bin, one mechanism for users and groups: `soft` keeps the object (and the
  // memberships naming it) restorable; deleting for good also takes it out of every group.
  private live(kind: 'user' | 'group'): Map<string, User | Group> {
    return kind === 'user' ? this.users : this.groups;
  }

  private bin(kind: 'user' | 'group'): Map<string, Deleted<User | Group>> {
    return kind === 'user' ? this.deletedUsers : this.deletedGroups;
  }

  private remove(kind: 'user' | 'group', id: string, soft: boolean): void {
    const object = this.live(kind).get(id);
    if (!object) {
      if (!soft && this.bin(kind).has(id)) return this.purge(kind, id);
      throw new NotFound(`no ${kind} ${id}`);
    }
    this.live(kind).delete(id);
    this.deletedKinds.set(id, kind);
    this.objectsChanged(kind);
    if (soft) {
      this.bin(kind).set(id, { object, deletedAt: Date.now() });
      this.record(kind, id, 'softDeleted');
      return;
    }
    this.leaveGroups(id);
    this.record(kind, id, 'deleted');
  }

  private restore(kind: 'user' | 'group', id: string): void {
    const deleted = this.bin(kind).get(id);
    if (!deleted) throw new NotFound(`no deleted ${kind} ${id}`);
    this.bin(kind).delete(id);
    this.live(kind).set(id, deleted.object);
    this.objectsChanged(kind);
    this.record(kind, id, 'restored');
  }

  private purge(kind: 'user' | 'group', id: string): void {
    if (!this.bin(kind).delete(id)) throw new NotFound(`no deleted ${kind} ${id}`);
    this.leaveGroups(id);
    this.record(kind, id, 'deleted');
  }

  private objectsChanged(kind: 'user' | 'group'): void {
    if (kind === 'group') this.groupsByName = undefined;
    this.membershipChanged();
  }

  /** Users and groups 30 days in the recycle bin are deleted for good (Entra's retention). */
  purgeExpired(now = Date.now()): void {
    for (const [userId, { deletedAt }] of this.deletedUsers) if (now - deletedAt >= RECYCLE_BIN_MS) this.purgeUser(userId);
    for (const [groupId, { deletedAt }] of this.deletedGroups) if (now - deletedAt >= RECYCLE_BIN_MS) this.purgeGroup(groupId);
  }

  /** An object deleted for good leaves every group it was a member of. */
  private leaveGroups(objectId: string): void {
    for (const group of this.groups.values()) {
      if (!group.members.includes(objectId)) continue;
      group.members = group.members.filter((id) => id !== objectId);
      this.record('group', group.id, 'membersRemoved', [objectId]);
    }
    this.membershipChanged();
  }

  /** The groups an object is a direct member of (`/users/{id}/memberOf`). */
  groupsOf(objectId: string): Group[] {
    return this.sortedGroups().filter((group) => group.members.includes(objectId));
  }

  servicePrincipal(appId: string) {
    return this.tenant.servicePrincipals.find((principal) => principal.appId === appId);
  }

  /** Admin consent: installs the app (a service principal) with the permissions it asks for. */
  grantConsent(app: Application): void {
    const existing = this.servicePrincipal(app.appId);
    if (existing) existing.appRoles = [...app.requiredAppRoles];
    else this.tenant.servicePrincipals.push({ appId: app.appId, appRoles: [...app.requiredAppRoles] });
  }

  /**
   * Two ways an admin revokes access: delete the enterprise app (token requests then fail with
   * AADSTS700016) or remove its permissions (tokens still issued, Graph answers 403).
   */
  revokeConsent(appId: string, mode: 'delete-service-principal' | 'remove-permissions'): void {
    if (mode === 'delete-service-principal') {
      this.tenant.servicePrincipals = this.tenant.servicePrincipals.filter((principal) => principal.appId !== appId);
    } else {
      const principal = this.servicePrincipal(appId);
      if (principal) principal.appRoles = [];
    }
  }

  setPermissions(appId: string, appRoles: AppRole[]): void {
    const principal = this.servicePrincipal(appId);
    if (principal) principal.appRoles = [...appRoles];
    else this.tenant.servicePrincipals.push({ appId, appRoles: [...appRoles] });
  }

  private requireGroup(groupId: string): Group {
    const group = this.groups.get(groupId);
    if (!group) throw new NotFound(`no group ${groupId}`);
    return group;
  }

  private membershipChanged(): void {
    this.transitive.clear();
  }

  private record(objectType: Change['objectType'], id: string, change: Change['change'], memberIds?: string[], properties?: string[]): void {
    this.changes.push({ seq: ++this.seq, at: new Date().toISOString(), objectType, id, change, memberIds, properties });
  }
}

/** An object in the recycle bin, and when it went there. */
interface Deleted<T> {
  object: T;
  deletedAt: number;
}

/** How long Entra keeps a deleted user or Microsoft 365 group restorable. */
const RECYCLE_BIN_MS = 30 * 24 * 60 * 60 * 1000;

export class NotFound extends Error {
  override name = 'NotFound';
}

/** Every tenant and registered application the emulator knows. */
export class Directory {
  readonly applications = new Map<string, Application>();
  private readonly tenants = new Map<string, TenantDirectory>();

  constructor(world: World) {
    for (const app of world.applications) this.applications.set(app.appId.toLowerCase(), app);
    for (const tenant of world.tenants) this.addTenant(tenant);
  }

  addTenant(input: unknown): TenantDirectory {
    const tenant = parseTenant(input);
    const directory = new TenantDirectory(tenant);
    this.tenants.set(tenant.id.toLowerCase(), directory);
    return directory;
  }

  allTenants(): TenantDirectory[] {
    return [...this.tenants.values()];
  }

  /** By tenant id or any verified domain, as login.microsoftonline.com resolves `{tenant}`. */
  findTenant(idOrDomain: string): TenantDirectory | undefined {
    const key = idOrDomain.toLowerCase();
    const byId = this.tenants.get(key);
    if (byId) return byId;
    return this.allTenants().find((directory) =>
      directory.tenant.verifiedDomains.some((domain) => domain.name.toLowerCase() === key),
    );
  }

  application(appId: string): Application | undefined {
    return this.applications.get(appId.toLowerCase());
  }
}

function compareText(a: string, b: string): number {
  const left = a.toLowerCase();
  const right = b.toLowerCase();
  return left < right ? -1 : left > right ? 1 : 0;
}
