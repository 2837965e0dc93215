// Finding the Chromium the dashboard stage drives, and making it trust the deployment like the
// API client does. Light (no playwright): the CLI checks for a browser before anything is
// created, through the dashboard descriptor's preflight.
import { createHash, X509Certificate } from 'crypto';
import * as fs from 'fs';
import type { TlsOptions } from '../../../coder/connection';

const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

// Also used by the integration harness. Without the networking flags Chromium floods a closed
// network with refused connections.
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export class ChromiumNotFoundError extends Error {
  constructor(detail: string) {
    super(
      `${detail} The dashboard stage needs Chrome or Chromium: install Debian's chromium (sudo apt-get install -y chromium), ` +
        'or set CODER_SCALETEST_CHROMIUM (or the chromiumPath setting) to a Chrome/Chromium binary, or set traffic.dashboard.enabled to false in the plan.',
    );
    this.name = 'ChromiumNotFoundError';
  }
}

/**
 * Chromium flags that make the browser trust the deployment like the API client does: it cannot
 * take a CA file, so the certificates in it are pinned by public key (SHA-256 of the SPKI);
 * `insecure` is handled per context (ignoreHTTPSErrors).
 */
export function chromiumTlsFlags(tls: TlsOptions | undefined): string[] {
  if (!tls?.caFile) return [];
  const pem = fs.readFileSync(tls.caFile, 'utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    throw new Error(`${tls.caFile} holds no PEM certificate; point the CA file setting at the deployment's CA certificate (PEM).`);
  const pins = blocks.map((block) => {
    const spki = new X509Certificate(block).publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('base64');
  });
  return [`--ignore-certificate-errors-spki-list=${pins.join(',')}`];
}

/** The configured path, then CODER_SCALETEST_CHROMIUM, then the usual install locations. */
export function findChromium(configured?: string): string {
  const explicit = configured || process.env.CODER_SCALETEST_CHROMIUM;
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new ChromiumNotFoundError(`Chromium not found at ${explicit}.`);
    return explicit;
  }
  const found = CHROMIUM_CANDIDATES.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new ChromiumNotFoundError('No Chromium found on this machine.');
  return found;
}
