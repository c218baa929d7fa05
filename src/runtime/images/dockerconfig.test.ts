import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configKeyHost, credentialsLookup, parseDockerConfig } from './dockerconfig.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('a .dockerconfigjson pull secret gives credentials per registry host', () => {
  const cfg = JSON.stringify({
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
      '127.0.0.1:5000': { username: 'local', password: 'secret' },
      '*.example.com': { auth: b64('wild:card') },
      'registry.example.com': { auth: b64('exact:one') },
    },
  });
  const lookup = credentialsLookup([cfg]);
  assert.deepEqual(lookup('registry-1.docker.io'), { username: 'hubuser', password: 'hub:pass' }, 'Docker Hub under its v1 key; ":" in a password kept');
  assert.deepEqual(lookup('docker.io'), { username: 'hubuser', password: 'hub:pass' });
  assert.deepEqual(lookup('127.0.0.1:5000'), { username: 'local', password: 'secret' });
  assert.equal(lookup('127.0.0.1:5001'), undefined, 'the port is part of the host');
  assert.deepEqual(lookup('registry.example.com'), { username: 'exact', password: 'one' }, 'an exact host wins over a wildcard');
  assert.deepEqual(lookup('other.example.com'), { username: 'wild', password: 'card' });
  assert.equal(lookup('a.b.example.com'), undefined, 'a wildcard covers one label');
  assert.equal(lookup('quay.io'), undefined);
});

test('the older .dockercfg format, several secrets in order, and bad input', () => {
  const old = JSON.stringify({ 'quay.io': { auth: b64('q:1') } });
  const second = JSON.stringify({ auths: { 'quay.io': { auth: b64('q:2') }, 'ghcr.io': { auth: b64('g:1') } } });
  const lookup = credentialsLookup([old, Buffer.from(second)]);
  assert.deepEqual(lookup('quay.io'), { username: 'q', password: '1' }, 'the first secret that matches wins');
  assert.deepEqual(lookup('ghcr.io'), { username: 'g', password: '1' });
  assert.equal(configKeyHost('HTTPS://Registry.Example.com:443/v2/'), 'registry.example.com:443');
  assert.throws(() => parseDockerConfig('{not json'), /invalid docker config/);
  assert.throws(() => parseDockerConfig('[]'), /not a JSON object/);
  assert.throws(() => parseDockerConfig(JSON.stringify({ auths: { 'x.io': { auth: b64('nocolon') } } })), /user:password/);
  assert.deepEqual(parseDockerConfig(JSON.stringify({ auths: { 'x.io': {} } })), [], 'an entry without credentials is skipped');
});
