/**
 * A page from the emulator's Graph, for benchmarks that time the emulator alone: anything but
 * 200 ends the benchmark (a floor of quick refusals would be no floor: a tenant without consent
 * answers 401 at once).
 */
export async function graphPage(url: string, token: string): Promise<GraphPage> {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  const text = await response.text();
  if (!response.ok) throw new Error(`the emulator answered ${response.status} for ${new URL(url).pathname}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { value: Array<{ id: string }>; '@odata.nextLink'?: string };
  return { value: body.value, nextLink: body['@odata.nextLink'], text };
}

export interface GraphPage {
  value: Array<{ id: string }>;
  nextLink: string | undefined;
  /** The answer as it came, to count its bytes. */
  text: string;
}

/** The emulator's token for its demo app in `tenantId`, or an error saying why there is none. */
export async function graphToken(origin: string, tenantId: string, app: { id: string; secret: string }): Promise<string> {
  const response = await fetch(`${origin}/${tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: app.id, client_secret: app.secret, scope: 'https://graph.microsoft.com/.default', grant_type: 'client_credentials' }),
  });
  const body = (await response.json()) as { access_token?: string; error_description?: string };
  if (body.access_token === undefined) throw new Error(`the emulator gave no token for tenant ${tenantId} (${response.status}): ${body.error_description ?? 'no description'}`);
  return body.access_token;
}
