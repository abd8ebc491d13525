/**
 * The fault-injection suite: `npm run chaos -- --runs N --seed S [--lanes K]`.
 *
 * Run i uses seed S+i. Each lane is a process of its own with its own Temporal dev server and local
 * world, taking runs i ≡ lane (mod K) one after another, so a run's plan (and everything it injects) depends
 * on its seed alone: `--runs 1 --seed <seed of the run>` replays it. Exit code 0 only when every invariant
 * held in every run.
 */
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { stopServer } from '../integration/harness';
import type { Invariant } from './invariants';
import { INVARIANTS } from './invariants';
import { describePlan } from './plan';
import type { RunOutcome } from './run';
import { runOnce } from './run';

interface Options {
  runs: number;
  seed: number;
  lanes: number;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '10' },
      seed: { type: 'string', default: '1' },
      lanes: { type: 'string', default: '1' },
      lane: { type: 'string' },
    },
    strict: true,
  });
  const int = (name: string, text: string | undefined, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${String(text)}: an integer ≥ ${min}`);
    return n;
  };
  return {
    runs: int('runs', values.runs, 1),
    seed: int('seed', values.seed, 0),
    lanes: int('lanes', values.lanes, 1),
  };
}

/** A lane's report line (one JSON line per run on stdout, prefixed so it stands out from logs). */
const REPORT = 'CHAOS-RUN ';

type Summary = Pick<RunOutcome, 'seed' | 'id' | 'ms' | 'problems' | 'did' | 'samples'> & { plan: string };

/** Runs the seeds of one lane in this process. */
async function lane(seeds: number[]): Promise<void> {
  try {
    for (const seed of seeds) {
      const out = await runOnce(seed, (line) => console.log(line));
      const summary: Summary = {
        seed,
        id: out.id,
        ms: out.ms,
        problems: out.problems,
        did: out.did,
        samples: out.samples,
        plan: describePlan(out.plan),
      };
      console.log(REPORT + JSON.stringify(summary));
    }
  } finally {
    await stopServer();
  }
}

function laneSeeds(o: Options, index: number): number[] {
  return Array.from({ length: o.runs }, (_, i) => i)
    .filter((i) => i % o.lanes === index)
    .map((i) => o.seed + i);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const laneArg = argv.indexOf('--lane');
  const o = options(argv);
  if (laneArg >= 0) {
    await lane(laneSeeds(o, Number(argv[laneArg + 1])));
    return 0;
  }
  console.log(`chaos: ${o.runs} runs, seeds ${o.seed}..${o.seed + o.runs - 1}, ${o.lanes} lane(s)`);
  const started = Date.now();
  const results: Summary[] = [];
  const failed = new Set<number>();
  await Promise.all(
    Array.from(
      { length: Math.min(o.lanes, o.runs) },
      (_, index) =>
        new Promise<void>((resolve) => {
          const child = fork(__filename, [...argv, '--lane', String(index)], {
            stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
          });
          let buffer = '';
          const prefix = o.lanes > 1 ? `[lane ${index}] ` : '';
          child.stdout?.on('data', (b: Buffer) => {
            buffer += b.toString();
            let nl: number;
            while ((nl = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, nl);
              buffer = buffer.slice(nl + 1);
              if (line.startsWith(REPORT)) {
                const r = JSON.parse(line.slice(REPORT.length)) as Summary;
                results.push(r);
                const bad = INVARIANTS.filter((k) => r.problems[k].length > 0);
                if (bad.length > 0) failed.add(r.seed);
                console.log(
                  `${prefix}run seed ${r.seed} ${r.id} ${(r.ms / 1000).toFixed(0)}s ${bad.length === 0 ? 'ok' : `FAILED ${bad.join(', ')}`}: ${r.plan}`
                );
                for (const k of bad) for (const p of r.problems[k]) console.log(`${prefix}    ${k}: ${p}`);
                if (bad.length > 0)
                  console.log(`${prefix}    replay: npm run chaos -- --runs 1 --seed ${r.seed}`);
              } else if (line.trim()) console.log(`${prefix}${line}`);
            }
          });
          child.stderr?.on('data', (b: Buffer) => process.stderr.write(`${prefix}${b.toString()}`));
          child.on('exit', (code) => {
            if (code !== 0) {
              console.log(`${prefix}lane exited with code ${String(code)}`);
              for (const seed of laneSeeds(o, index))
                if (!results.some((r) => r.seed === seed)) failed.add(seed);
            }
            resolve();
          });
        })
    )
  );
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(`\nchaos: ${results.length} of ${o.runs} runs finished in ${minutes} min`);
  console.log('| invariant | runs held | runs failed |');
  console.log('| --- | --- | --- |');
  for (const k of INVARIANTS as readonly Invariant[]) {
    const bad = results.filter((r) => r.problems[k].length > 0).length;
    console.log(`| ${k} | ${results.length - bad} | ${bad} |`);
  }
  const did: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.did)) did[k] = (did[k] ?? 0) + v;
  console.log(
    `disruptions: ${Object.entries(did)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`
  );
  console.log(`state-file samples parsed: ${results.reduce((n, r) => n + r.samples, 0)}`);
  if (failed.size > 0) console.log(`failed seeds: ${[...failed].sort((a, b) => a - b).join(' ')}`);
  console.log(`chaos runs: ${o.runs - failed.size} passed, ${failed.size} failed`);
  return failed.size === 0 && results.length === o.runs ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  }
);
