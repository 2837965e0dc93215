// A throwaway self-signed certificate for 127.0.0.1 (made with openssl) for the TLS tests.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface SelfSignedCert {
  /** A fresh temp directory holding cert.pem and key.pem; the caller removes it. */
  dir: string;
  certFile: string;
  /** For the simulated deployment's `tls` option. */
  serverTls: { cert: Buffer; key: Buffer };
}

export function makeSelfSignedCert(dirPrefix: string): SelfSignedCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { dir, certFile, serverTls: { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) } };
}
