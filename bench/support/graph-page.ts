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
