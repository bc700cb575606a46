import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { partName, partsDir } from './parts.js';

/**
 * A Kubernetes Indexed Job running the shards of a predict: `completions` = `parallelism` = the shard count, and
 * each pod runs `flash predict <the same flags> --shard $(JOB_COMPLETION_INDEX)/n --output <its part>` (Kubernetes
 * expands $(VAR) in a container's args from its environment, and sets JOB_COMPLETION_INDEX, 0-based, in an Indexed
 * Job). The pods see the data under the same path as here: a PersistentVolumeClaim mounted at this folder, which is
 * also their working directory, so the command's relative paths mean the same there. No cluster is needed to write it.
 */
export interface ManifestArgs {
  /** The predict command's flags (without the shard flags and --output), as typed. */
  argv: string[];
  shards: number;
  /** --output as typed: the parts go to <output>.shards/part-<i>-of-<n>.<ext>. */
  output: string;
  /** The folder predict was run in: mounted at the same path in every pod. */
  cwd: string;
  image: string;
  pvc: string;
  /** How many pods at once (default: all shards). */
  parallelism?: number;
}

/** The Job's name: from the command, so the same command gives the same name (a DNS label, ≤ 63 characters). */
export function jobName(args: Pick<ManifestArgs, 'argv' | 'shards' | 'output' | 'cwd'>): string {
  return `flash-predict-${createHash('sha256').update(JSON.stringify([args.cwd, args.argv, args.shards, args.output])).digest('hex').slice(0, 10)}`;
}

/** The manifest's YAML, with a comment saying how to run it and how to merge the parts. */
export function indexedJobManifest(args: ManifestArgs): string {
  const n = args.shards;
  const part = join(partsDir(args.output), partName(args.output, '$(JOB_COMPLETION_INDEX)', n));
  const name = jobName(args);
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { app: 'flash', 'flash/command': 'predict' } },
    spec: {
      completionMode: 'Indexed',
      completions: n,
      parallelism: Math.min(n, args.parallelism ?? n),
      // A failed pod is retried; a part is written atomically, so a retried shard never leaves half a file.
      backoffLimit: Math.max(6, n),
      template: {
        metadata: { labels: { app: 'flash', 'flash/job': name } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'flash',
              image: args.image,
              workingDir: args.cwd,
              command: ['flash'],
              args: ['predict', ...args.argv, '--shard', `$(JOB_COMPLETION_INDEX)/${n}`, '--output', part],
              volumeMounts: [{ name: 'data', mountPath: args.cwd }],
            },
          ],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: args.pvc } }],
        },
      },
    },
  };
  const merge = ['flash', 'predict', ...args.argv, '--shards', String(n), '--merge', '--output', args.output].map(shellWord).join(' ');
  return [
    `# flash predict in ${n} shards as a Kubernetes Indexed Job (written by flash; no cluster was needed to write it).`,
    `# Pod i runs shard i/${n} and writes ${part.replace('$(JOB_COMPLETION_INDEX)', 'i')} on the volume '${args.pvc}', mounted at ${args.cwd}.`,
    `# Run:    kubectl apply -f <this file>   then   kubectl wait --for=condition=complete job/${name} --timeout=24h`,
    `# Merge:  ${merge}`,
    stringify(job, { lineWidth: 0 }),
  ].join('\n');
}

/** A word as a POSIX shell reads it back. */
function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}
