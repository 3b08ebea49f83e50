import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): where the router's CPU time goes, by function and
 * by package. Also runs on its own: `tsx bench/router/profile-summary.ts FILE.cpuprofile [TOP]`.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package or part of Node a frame belongs to, e.g. `fastify`, `undici`, `node:http`, `router`. */
export function categoryOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (program), (idle)
    return '(native)';
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const internal = /^node:internal\/(?:deps\/)?([^/]+)/.exec(url);
  if (internal) return `node:${internal[1]!.replace(/\.js$/, '')}`;
  if (url.startsWith('node:')) return url.replace(/\.js$/, '');
  const project = /\/src\/([^/]+)\/([^/]+)$/.exec(url);
  if (project) return `src/${project[1]}/${project[2]}`;
  return url;
}

function frameName(frame: CallFrame): string {
  const file =
    frame.url === ''
      ? ''
      : ` ${frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/(src|bench)\//, '$1/')}:${frame.lineNumber + 1}`;
  return `${frame.functionName || '(anonymous)'}${file}`;
}

interface Row {
  name: string;
  selfUs: number;
  totalUs: number;
}

export function summarizeProfile(path: string, top = 20): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }

  const fnRows = new Map<string, Row>();
  const catRows = new Map<string, Row>();
  const row = (rows: Map<string, Row>, name: string): Row => {
    let r = rows.get(name);
    if (r === undefined) {
      r = { name, selfUs: 0, totalUs: 0 };
      rows.set(name, r);
    }
    return r;
  };

  let busyUs = 0;
  let idleUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the next delta is the time sample i stood for.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(profile.samples[i]!);
    if (leaf === undefined || us <= 0) continue;
    if (leaf.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    row(fnRows, frameName(leaf.callFrame)).selfUs += us;
    row(catRows, categoryOf(leaf.callFrame)).selfUs += us;
    // Inclusive time: each function and category once per sample, however often it recurs.
    const seenFn = new Set<string>();
    const seenCat = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === '(root)') continue;
      const fn = frameName(frame);
      const cat = categoryOf(frame);
      if (!seenFn.has(fn)) {
        seenFn.add(fn);
        row(fnRows, fn).totalUs += us;
      }
      if (!seenCat.has(cat)) {
        seenCat.add(cat);
        row(catRows, cat).totalUs += us;
      }
    }
  }

  const pct = (us: number): string => `${((100 * us) / Math.max(1, busyUs)).toFixed(1).padStart(5)}%`;
  const lines: string[] = [];
  const total = busyUs + idleUs;
  lines.push(
    `profile ${path}: ${(total / 1e6).toFixed(1)} s sampled, busy ${(busyUs / 1e6).toFixed(1)} s ` +
      `(${((100 * busyUs) / Math.max(1, total)).toFixed(0)}%), idle ${(idleUs / 1e6).toFixed(1)} s; % below are of busy time`,
  );
  lines.push('', `top ${top} functions by self time:`);
  for (const r of [...fnRows.values()].sort((a, b) => b.selfUs - a.selfUs).slice(0, top)) {
    lines.push(`  ${pct(r.selfUs)} self ${pct(r.totalUs)} total  ${r.name}`);
  }
  lines.push('', 'by package / Node module (self, and inclusive: on the stack at all):');
  for (const r of [...catRows.values()].sort((a, b) => b.selfUs - a.selfUs).slice(0, top)) {
    lines.push(`  ${pct(r.selfUs)} self ${pct(r.totalUs)} total  ${r.name}`);
  }
  lines.push('', "the router's own code (src/), inclusive:");
  for (const r of [...fnRows.values()]
    .filter((r) => r.name.includes(' src/'))
    .sort((a, b) => b.totalUs - a.totalUs)
    .slice(0, top)) {
    lines.push(`  ${pct(r.selfUs)} self ${pct(r.totalUs)} total  ${r.name}`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: tsx bench/router/profile-summary.ts FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  console.log(summarizeProfile(file, top === undefined ? 20 : Number(top)));
}
