/** What a sweep records of each trial. */

/** One trial's outcome, as results.jsonl and results.csv record it. */
export interface TrialResult {
  trial: number;
  status: 'completed' | 'stopped' | 'failed';
  params: Record<string, unknown>;
  /** The sweep metric of the trial's saved (best) model; null when the trial has none. */
  value: number | null;
  metrics: Record<string, number>;
  best_epoch: number | null;
  seconds: number;
  worker: string;
  run_dir: string;
  error?: string;
}
