import { describe, expect, it } from 'vitest';
import { TokenIssuer } from '../../emulator/tokens.js';

describe('emulated app-only tokens', () => {
  it('a revocation forgets the tokens issued before it, not one issued after it in the same millisecond', () => {
    const tokens = new TokenIssuer();
    const now = Date.now();
    const before = tokens.issue('tenant-a', 'app', ['GroupMember.Read.All'], now).token;
    const otherTenant = tokens.issue('tenant-b', 'app', [], now).token;
    tokens.revokeTenant('TENANT-A');
    const after = tokens.issue('tenant-a', 'app', ['GroupMember.Read.All'], now).token;
    expect(tokens.verify(before, now)).toBeUndefined();
    expect(tokens.verify(after, now)).toMatchObject({ tenantId: 'tenant-a', roles: ['GroupMember.Read.All'] });
    expect(tokens.verify(otherTenant, now)).toBeDefined();
    expect(tokens.verify(after, now + 3_600_000)).toBeUndefined(); // expired
    expect(tokens.verify(`${after.slice(0, -2)}xx`, now)).toBeUndefined(); // tampered
  });
});
