/**
 * Request authentication: x509 client certificates verified against the cluster CA, and
 * bearer tokens from a static token file or an in-memory table (the node-join token).
 * Mirrors the upstream union authenticator: the first method that recognises the request
 * wins, every authenticated user also gets the group `system:authenticated`.
 */
import type { RequestUser } from '../../api/resource.js';
import { X509Certificate, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { writeAtomic } from './pki.js';

/** The authenticated identity of a request (upstream user.Info). */
export type UserInfo = RequestUser;

/** Group added to every authenticated user. */
export const AUTHENTICATED_GROUP = 'system:authenticated';
/** Identity the server may give requests without credentials (if anonymous auth is on). */
export const ANONYMOUS_USER: Readonly<UserInfo> = Object.freeze({
  name: 'system:anonymous',
  groups: ['system:unauthenticated'],
});

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  /** PEM of the CA that signs client certificates; peer certificates must verify against it. */
  caPem: string;
  /** Path of a static token file (`token,user,uid,"group1,group2"` per line), read once. */
  tokenFile?: string;
  /** Extra tokens (e.g. the node-join token) mapped to their users. */
  tokens?: Map<string, UserInfo> | Record<string, UserInfo>;
}

/**
 * Authenticates a request: returns the user, or undefined when no credential is present or
 * the one presented is not valid. Also carries helpers to inspect requests and edit tokens.
 */
export interface Authenticator {
  (req: IncomingMessage): UserInfo | undefined;
  /** Same as calling the authenticator. */
  authenticate(req: IncomingMessage): UserInfo | undefined;
  /**
   * True when the request carries a credential (a bearer token or any client certificate),
   * valid or not: upstream answers 401 to a bad credential rather than treating it as anonymous.
   */
  hasCredentials(req: IncomingMessage): boolean;
  /** Adds or replaces an in-memory token. */
  setToken(token: string, user: UserInfo): void;
  /** Removes an in-memory token; returns whether it existed. */
  deleteToken(token: string): boolean;
}

interface TokenEntry {
  digest: Buffer;
  user: UserInfo;
}

/** Sub-protocol prefix through which WebSocket clients pass a base64url bearer token. */
const WS_TOKEN_PREFIX = 'base64url.bearer.authorization.k8s.io.';

/**
 * Builds the authenticator. Throws if the token file cannot be read or has a line with fewer
 * than three columns (upstream wording).
 */
export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const ca = new X509Certificate(opts.caPem);
  const entries = new Map<string, TokenEntry>();
  const put = (token: string, user: UserInfo) => entries.set(token, { digest: digest(token), user: withAuthenticated(user) });
  if (opts.tokenFile) for (const [t, u] of parseTokenFile(readFileSync(opts.tokenFile, 'utf8'), opts.tokenFile)) put(t, u);
  const extra = opts.tokens instanceof Map ? opts.tokens : new Map(Object.entries(opts.tokens ?? {}));
  for (const [t, u] of extra) put(t, u);

  // Certificates are checked once per TLS connection.
  const certUsers = new WeakMap<object, UserInfo | null>();

  const fromCert = (req: IncomingMessage): UserInfo | undefined => {
    const sock = req.socket as TLSSocket;
    if (typeof sock.getPeerX509Certificate !== 'function' || !sock.authorized) return undefined;
    const cached = certUsers.get(sock);
    if (cached !== undefined) return cached ?? undefined;
    const user = userFromCertificate(sock, ca);
    certUsers.set(sock, user ?? null);
    return user;
  };

  const fromToken = (req: IncomingMessage): UserInfo | undefined => {
    const token = bearerToken(req);
    if (token === undefined) return undefined;
    const d = digest(token);
    let found: UserInfo | undefined;
    // Compare against every entry so timing does not reveal which (or whether one) matched.
    for (const e of entries.values()) if (timingSafeEqual(e.digest, d)) found = e.user;
    return found;
  };

  const authenticate = (req: IncomingMessage): UserInfo | undefined => fromCert(req) ?? fromToken(req);
  return Object.assign(authenticate, {
    authenticate,
    hasCredentials: (req: IncomingMessage) => bearerToken(req) !== undefined || presentedCertificate(req),
    setToken: (token: string, user: UserInfo) => void put(token, user),
    deleteToken: (token: string) => entries.delete(token),
  });
}

function presentedCertificate(req: IncomingMessage): boolean {
  const sock = req.socket as TLSSocket;
  if (typeof sock.getPeerCertificate !== 'function') return false;
  const peer = sock.getPeerCertificate();
  return !!peer && Object.keys(peer).length > 0;
}

function userFromCertificate(sock: TLSSocket, ca: X509Certificate): UserInfo | undefined {
  const peer = sock.getPeerCertificate();
  if (!peer || !peer.subject) return undefined;
  const x = sock.getPeerX509Certificate();
  // The server may trust more CAs than ours; only certificates our CA signed count here.
  if (!x || !x.checkIssued(ca) || !x.verify(ca.publicKey)) return undefined;
  const eku = (peer as { ext_key_usage?: string[] }).ext_key_usage;
  if (eku && !eku.includes('1.3.6.1.5.5.7.3.2')) return undefined; // upstream requires ExtKeyUsageClientAuth
  const cn = peer.subject.CN as string | string[] | undefined;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const o = peer.subject.O as string | string[] | undefined;
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return withAuthenticated({ name, groups });
}

/**
 * The bearer token of a request: `Authorization: Bearer <t>` (scheme case-insensitive), or for
 * WebSocket upgrades the `base64url.bearer.authorization.k8s.io.<t>` sub-protocol.
 */
export function bearerToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization?.trim();
  if (auth) {
    const parts = auth.split(' ');
    if (parts.length >= 2 && parts[0]!.toLowerCase() === 'bearer' && parts[1]) return parts[1];
    return undefined;
  }
  const protos = req.headers['sec-websocket-protocol'];
  if (typeof protos === 'string') {
    for (const p of protos.split(',')) {
      const s = p.trim();
      if (s.startsWith(WS_TOKEN_PREFIX)) {
        const t = Buffer.from(s.slice(WS_TOKEN_PREFIX.length), 'base64url').toString('utf8');
        if (t) return t;
      }
    }
  }
  return undefined;
}

/**
 * Parses the upstream static token file format: CSV lines `token,user,uid[,"g1,g2"]`;
 * blank lines and lines with an empty token are skipped. Throws on short lines.
 */
export function parseTokenFile(text: string, path = 'token file'): Map<string, UserInfo> {
  const out = new Map<string, UserInfo>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const line of lines) {
    if (line.trim() === '') continue;
    const rec = parseCSVLine(line);
    if (rec.length < 3) {
      throw new Error(`token file '${path}' must have at least 3 columns (token, user name, user uid), found ${rec.length}`);
    }
    const [token, name, uid, groups] = rec as [string, string, string, string | undefined];
    if (token === '') continue;
    out.set(token, { name, uid, groups: groups ? groups.split(',').filter((g) => g !== '') : [] });
  }
  return out;
}

function parseCSVLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function withAuthenticated(u: UserInfo): UserInfo {
  const groups = u.groups.includes(AUTHENTICATED_GROUP) ? [...u.groups] : [...u.groups, AUTHENTICATED_GROUP];
  return u.uid === undefined ? { name: u.name, groups } : { name: u.name, uid: u.uid, groups };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Generates a node-join token. With the CA PEM it has the k3s "secure" form
 * `K10<sha256 hex of the CA PEM bytes>::server:<32 hex random>`, letting a joining node pin
 * the CA before trusting the server; without it, 64 random hex characters.
 */
export function generateToken(caPem?: string): string {
  const secret = randomBytes(16).toString('hex');
  if (caPem === undefined) return randomBytes(32).toString('hex');
  return `K10${createHash('sha256').update(caPem, 'utf8').digest('hex')}::server:${secret}`;
}

/** The pieces of a join token; `caHash` only for the `K10` form. */
export interface JoinToken {
  caHash?: string;
  username?: string;
  password: string;
}

/** Splits a join token (`K10<hash>::<user>:<password>` or a bare secret). */
export function parseJoinToken(token: string): JoinToken {
  const m = /^K10([0-9a-f]{64})::([^:]+):(.+)$/.exec(token);
  if (m) return { caHash: m[1], username: m[2], password: m[3]! };
  return { password: token };
}

/** True when the token pins no CA or pins exactly this CA PEM. */
export function joinTokenMatchesCA(token: string, caPem: string): boolean {
  const { caHash } = parseJoinToken(token);
  if (caHash === undefined) return true;
  const actual = createHash('sha256').update(caPem, 'utf8').digest();
  return timingSafeEqual(Buffer.from(caHash, 'hex'), actual);
}

/**
 * Returns the node-join token stored at `<dataDir>/token`, creating it (mode 0600, see
 * {@link generateToken}) on first use so it stays the same across restarts.
 */
export async function ensureToken(dataDir: string, caPem?: string): Promise<string> {
  const path = join(dataDir, 'token');
  try {
    const t = (await readFile(path, 'utf8')).trim();
    if (t) return t;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const token = generateToken(caPem);
  await writeAtomic(path, token + '\n', 0o600);
  return token;
}
