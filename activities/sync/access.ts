import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../../workflows/failures.js';
import { keepHeartbeating } from '../heartbeat.js';
import type { SyncDeps } from './context.js';

export function createAccessActivities({ entra }: SyncDeps) {
  return {
    /**
     * Whether Hook still has access to the tenant (a token, and `GET /organization`): asked when
     * some reads were refused, to tell revoked consent from a group Hook may not read.
     */
    async checkAccess(tenantId: string): Promise<boolean> {
      try {
        await keepHeartbeating(() => 'probing', () => entra.call(tenantId, (graph) => graph.api('/organization').select('id').get()));
        return true;
      } catch (error) {
        if (error instanceof ApplicationFailure && (error.type === FailureType.TokenRefused || error.type === FailureType.GraphRefused)) return false;
        throw error;
      }
    },
  };
}
