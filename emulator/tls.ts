import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

export interface EmulatorTls {
  /** PEM of the certificate authority clients must trust (also written to caFile). */
  ca: string;
  caFile: string;
  key: string;
  cert: string;
}

/** Names the emulator can answer as: itself on localhost, and Microsoft's hosts via a hosts file. */
export const DEFAULT_HOST_NAMES = ['localhost', '127.0.0.1', '::1', 'login.microsoftonline.com', 'graph.microsoft.com'];

/**
 * MSAL refuses non-https authorities and the Graph client sends tokens and follows nextLinks
 * only over https, so the emulator serves TLS. Its CA is kept in `dir` and reused, so a
 * machine that trusts it once (for third-party clients) keeps trusting it; the server
 * certificate is issued fresh at every start.
 */
export async function loadOrCreateTls(dir: string, hostNames: string[] = DEFAULT_HOST_NAMES): Promise<EmulatorTls> {
  await fs.mkdir(dir, { recursive: true });
  const caFile = path.join(dir, 'ca.pem');
  const caKeyFile = path.join(dir, 'ca-key.pem');
  let caPem: string;
  let caKeyPem: string;
  try {
    [caPem, caKeyPem] = await Promise.all([fs.readFile(caFile, 'utf8'), fs.readFile(caKeyFile, 'utf8')]);
  } catch {
    ({ cert: caPem, key: caKeyPem } = createCa());
    await fs.writeFile(caKeyFile, caKeyPem, { mode: 0o600 });
    await fs.writeFile(caFile, caPem);
  }
  const { cert, key } = issueServerCertificate(caPem, caKeyPem, hostNames);
  return { ca: caPem, caFile, key, cert };
}

function keyPair() {
  // Node's native RSA is far faster than forge's pure-JS generation.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  };
}

function baseCertificate(publicKey: forge.pki.PublicKey, years: number) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(Date.now() + years * 365 * 24 * 60 * 60 * 1000);
  return cert;
}

function createCa(): { cert: string; key: string } {
  const keys = keyPair();
  const cert = baseCertificate(keys.publicKey, 10);
  const subject = [
    // A unique name: TLS stacks find the issuer by name, so two emulator CAs must not share one.
    { name: 'commonName', value: `Hook Entra Emulator CA ${randomBytes(4).toString('hex')}` },
    { name: 'organizationName', value: 'Hook (emulator, not Microsoft)' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

function issueServerCertificate(caPem: string, caKeyPem: string, hostNames: string[]): { cert: string; key: string } {
  const ca = forge.pki.certificateFromPem(caPem);
  const caKey = forge.pki.privateKeyFromPem(caKeyPem);
  const keys = keyPair();
  const cert = baseCertificate(keys.publicKey, 1);
  cert.setSubject([{ name: 'commonName', value: hostNames[0] ?? 'localhost' }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: hostNames.map((name) => (/^[\d.]+$|:/.test(name) ? { type: 7, ip: name } : { type: 2, value: name })),
    },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}
