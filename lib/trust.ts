import { getCACertificates, setDefaultCACertificates } from 'node:tls';

const extraAuthorities = new Set<string>();

/**
 * Adds a certificate authority to what this process's TLS clients trust by default (fetch, which
 * MSAL and the Graph client use, among them), on top of the public roots. The Entra emulator
 * serves TLS with its own CA; trusting it is the only difference between emulator mode and
 * production. Node 24's `tls.setDefaultCACertificates` is the supported way to do this; the
 * undici dispatcher this replaced is ignored by the fetch of later Node versions.
 */
export function trustCertificateAuthority(caPem: string): void {
  if (extraAuthorities.has(caPem)) return;
  extraAuthorities.add(caPem);
  setDefaultCACertificates([...getCACertificates('default'), caPem]);
}
