// temporary probe (deleted after use)
import { readFileSync } from 'node:fs';
import { startServer } from '../../test/util/cluster.js';
import { agentFor, callOk, driveFor, targetFromKubeconfig } from './client.js';
const ticks = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
const s = await startServer({ datastore: process.env['DS'] ?? 'sqlite', extraArgs: [] });
try {
  const t = await targetFromKubeconfig(s.kubeconfig);
  for (const conc of [1, 64]) {
    const a = agentFor(t, conc);
    const c0 = process.cpuUsage(), s0 = ticks(s.pid);
    const r = await driveFor(conc, 4000, (w, q) => callOk(a, t, 201, 'POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ metadata: { name: `p${conc}-${w}-${q}` }, data: { v: 'x'.repeat(1024) } })).then(() => {}));
    const cu = process.cpuUsage(c0);
    console.log(conc, r, 'client cpu', ((cu.user + cu.system) / 1e6 / 4 * 100).toFixed(0) + '%', 'server cpu', ((ticks(s.pid) - s0) / 4 * 100).toFixed(0) + '%');
    a.destroy();
  }
} finally { await s.stop(); }
