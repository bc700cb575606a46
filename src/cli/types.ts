import type { DeepPartial, Recipe } from '../core/config/index.js';
import type { Registry } from '../core/registry.js';

/** Everything the CLI touches of the outside world, injected so tests run it in-process. */
export interface CliIO {
  /** Writes to stdout; `text` carries its own trailing newline. */
  out(text: string): void;
  /** Writes to stderr; `text` carries its own trailing newline. */
  err(text: string): void;
  /** Whether stdout is a terminal (progress bars and tables) or a pipe/file (plain lines). */
  isTTY: boolean;
  /** Working directory: relative paths and the recipe file search start here. */
  cwd: string;
  env: Record<string, string | undefined>;
}

/** A task's data builder (Flash Zero's sub-command: `from_folders`, `from_files`, …). */
export interface CliBuilder {
  name: string;
  description: string;
  /** The `data.*` keys it uses; on the command line after the sub-command they are spelled without `data.`. */
  options: string[];
}

/** What the CLI needs to know of a task. */
export interface CliTask {
  description: string;
  builders: CliBuilder[];
  defaults: DeepPartial<Recipe>;
}

/** The registries the CLI lists and checks names against. */
export interface CliRegistries {
  backbones: Registry<unknown>;
  optimizers: Registry<unknown>;
  metrics: Registry<unknown>;
  loggers: Registry<unknown>;
  backends: Registry<unknown>;
  strategies: Registry<unknown>;
}

export interface TrainArgs {
  recipe: Recipe;
  /** A run folder to continue from (`--resume`). */
  resume?: string;
  /** `--check [--json]`: check the recipe's data and print the report instead of training. */
  check?: { json: boolean };
  io: CliIO;
}

export interface PredictArgs {
  /** Run folder (or model folder) to load. */
  model: string;
  files?: string[];
  folder?: string;
  topK: number;
  /** Multi-label models: a label is predicted from this probability (default: the model's, 0.5). */
  threshold?: number;
  /** .json, .jsonl or .csv; printed as a table when absent. */
  output?: string;
  backend: string;
  batchSize: number;
  io: CliIO;
}

export interface EvaluateArgs {
  model: string;
  /** A folder of class sub-folders (single-label models); or `csv`. */
  folder?: string;
  /** A labelled CSV laid out as for from_csv (the only way to score a multi-label model). */
  csv?: string;
  /** The CSV's columns; default: the run's data.input_field / data.target_fields. */
  inputField?: string;
  targetFields?: string[];
  /** Folder the CSV's image paths are relative to; default: the CSV's folder. */
  imagesRoot?: string;
  backend: string;
  batchSize: number;
  /** .json file for the metrics; printed when absent. */
  output?: string;
  io: CliIO;
}

/** `flash report RUN`: (re)writes a run's report.html and plots. */
export interface ReportArgs {
  run: string;
  folder?: string;
  split?: 'test' | 'val';
  backend: string;
  io: CliIO;
}

/** `flash export --model RUN --out DIR`: a folder for a web page. */
export interface ExportArgs {
  model: string;
  out: string;
  io: CliIO;
}

/** `flash compare RUN RUN…`: runs side by side. */
export interface CompareArgs {
  runs: string[];
  out?: string;
  io: CliIO;
}

/** `flash serve`: an HTTP server for a trained model, until Ctrl-C/SIGTERM or `signal`. */
export interface ServeArgs {
  /** Run folder to serve. */
  model: string;
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Largest request body, in bytes. */
  maxBody: number;
  backend: string;
  /** Classes per image when the request has no ?top_k=. */
  topK: number;
  /** Multi-label models: the threshold when the request has no ?threshold= (default: the model's). */
  threshold?: number;
  /** Most images the model runs at once (requests are micro-batched up to this). */
  batchSize: number;
  /** No access log lines. */
  quiet?: boolean;
  io: CliIO;
  /** Stops the server (the CLI wires Ctrl-C to it). */
  signal?: AbortSignal;
  /** Called once listening, with the base URL. */
  onListening?: (url: string) => void;
}

/** The commands the CLI dispatches to (the same functions the programmatic API uses). */
export interface CliCommands {
  train(args: TrainArgs): Promise<void>;
  predict(args: PredictArgs): Promise<void>;
  evaluate(args: EvaluateArgs): Promise<void>;
  /** `flash serve` (optional so fakes and tasks without serving need not provide it). */
  serve?(args: ServeArgs): Promise<void>;
  /** `flash report` (optional, like serve). */
  report?(args: ReportArgs): Promise<void>;
  /** `flash export` (optional, like serve). */
  export?(args: ExportArgs): Promise<void>;
  /** `flash compare` (optional, like serve). */
  compare?(args: CompareArgs): Promise<void>;
}

export interface CliDeps {
  io: CliIO;
  tasks: Registry<CliTask>;
  registries: CliRegistries;
  commands: CliCommands;
  /** flash's version, printed by `--version`. */
  version: string;
}
