import { WEBHOOK_SECRETS } from '../../db/repositories/webhooks.js';
import { secretBox } from '../../lib/secret-box.js';

/** The tests' DATA_ENCRYPTION_KEY, and the box it makes for webhook signing secrets. */
export const TEST_DATA_KEY = 'test-data-encryption-key-0123456789-abcdefghij';
export const testWebhookSecrets = secretBox(TEST_DATA_KEY, WEBHOOK_SECRETS);
