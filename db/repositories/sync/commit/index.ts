// A commit's steps, in the order activities/sync/commit.ts runs them in one transaction.
export { trustInputs } from './trust.js';
export { applyEdges } from './edges.js';
export { activeUserCount, removeUsers, restoreMembers, upsertUsers, usersInNoGroup } from './users.js';
export { buildTree, pruneOutsideTree } from './tree.js';
export { dropUnsyncedMemberships, membershipCounts, patchMembershipPairs, recomputeMemberships } from './memberships.js';
export { confirmedSet, digestOf, holdForConfirmation } from './removals.js';
export { recordGroupsRead, renameKnownGroups, writeGroupStatus } from './group-status.js';
