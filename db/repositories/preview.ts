import { sql, type Kysely } from 'kysely';
import type { Database, SampledMember, SampleFlags } from '../schema.js';

type Db = Kysely<Database>;

export interface PreviewSample {
  connectionId: string;
  previewId: string;
  groupId: string;
  status: 'ok' | 'failed';
  total: number | null;
  members: SampledMember[];
  error: string | null;
  flags?: SampleFlags;
  complete?: boolean;
}

/** One group's sample in a preview, replacing an earlier attempt's. */
export async function recordSample(db: Db, sample: PreviewSample): Promise<void> {
  const values = {
    status: sample.status,
    total: sample.total,
    members: JSON.stringify(sample.members),
    error: sample.error,
    flags: sample.flags ? JSON.stringify(sample.flags) : null,
    complete: sample.complete ?? false,
  };
  await db
    .insertInto('preview_samples')
    .values({ connection_id: sample.connectionId, preview_id: sample.previewId, group_id: sample.groupId, ...values })
    .onConflict((conflict) => conflict.columns(['connection_id', 'preview_id', 'group_id']).doUpdateSet(values))
    .execute();
}

/**
 * A group's members in full for a preview, so a save can be counted exactly. Only the preview
 * being made is kept: an earlier one of this connection is of no more use. Two index ranges
 * around this preview's rows (a `<>` would read them all, for every group).
 */
export async function recordPreviewMembers(db: Db, sample: Pick<PreviewSample, 'connectionId' | 'previewId' | 'groupId'>, userIds: string[]): Promise<void> {
  const { connectionId, previewId, groupId } = sample;
  await db.deleteFrom('preview_members').where('connection_id', '=', connectionId).where((eb) => eb.or([eb('preview_id', '<', previewId), eb('preview_id', '>', previewId)])).execute();
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return;
  await sql`insert into preview_members (connection_id, preview_id, group_id, user_id)
            select ${connectionId}::uuid, ${previewId}, ${groupId}::uuid, unnest(${ids}::uuid[]) on conflict do nothing`.execute(db);
}

/** The visibility the picker stored for a group (hidden membership changes what a read means). */
export async function storedVisibility(db: Db, connectionId: string, groupId: string): Promise<string | null | undefined> {
  const row = await db.selectFrom('entra_groups').select('visibility').where('connection_id', '=', connectionId).where('group_id', '=', groupId).executeTakeFirst();
  return row?.visibility;
}
