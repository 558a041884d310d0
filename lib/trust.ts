import { rootCertificates } from 'node:tls';
import { Agent, setGlobalDispatcher } from 'undici';

const extraAuthorities = new Set<string>();

/**
 * Adds a certificate authority to what this process's fetch trusts, on top of the public roots.
 * The Entra emulator serves TLS with its own CA; trusting it is the only difference between
 * emulator mode and production (MSAL and the Graph client both use the global fetch).
 */
export function trustCertificateAuthority(caPem: string): void {
  if (extraAuthorities.has(caPem)) return;
  extraAuthorities.add(caPem);
  setGlobalDispatcher(new Agent({ connect: { ca: [...rootCertificates, ...extraAuthorities] } }));
}
