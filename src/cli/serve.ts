import { formatProblems } from '../core/config/index.js';
import { FlashUserError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { parseByteSize } from '../serve/size.js';
import { fraction, parseCommandFlags, wantsHelp, type FlagKind } from './argv.js';
import { table } from './help.js';
import type { CliDeps, ServeArgs } from './types.js';

/** name, kind, description */
export const SERVE_OPTIONS: [string, FlagKind, string][] = [
  ['model', 'string', 'run folder of a trained model (required)'],
  ['host', 'string', 'address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface)'],
  ['port', 'string', 'port to listen on (default: 8000; 0 = any free port)'],
  ['max_body', 'string', 'largest request body, e.g. 10MB, 512KB or bytes (default: 10MB)'],
  ['top_k', 'string', 'classes per image when a request has no ?top_k= (default: 3)'],
  ['threshold', 'string', "multi-label models: labels at or above this probability when a request has no ?threshold= (default: the model's, 0.5)"],
  ['batch_size', 'string', 'most images the model runs at once; concurrent requests are batched up to it (default: 32)'],
  ['backend', 'string', 'TensorFlow.js backend (default: auto)'],
  ['quiet', 'boolean', 'no line per request on stderr'],
];

export function serveHelp(): string {
  return [
    'flash serve: serve a trained model over HTTP, with a web page to try it',
    '',
    'Usage:',
    '  flash serve --model RUN_DIR [--host 127.0.0.1] [--port 8000] [--max_body 10MB] [options]',
    '',
    'Endpoints:',
    table([
      ['POST /predict', 'multipart image file(s), JSON {"image": base64} or {"images": [base64, ...]}, or raw image/* bytes; ?top_k=N; multi-label models: ?threshold=0.5'],
      ['GET /metadata', 'labels, input size and channels, versions'],
      ['GET /health', 'liveness and queue length'],
      ['GET /', 'a web page: drop or pick an image, see the top classes'],
    ]),
    '',
    'Options:',
    table(SERVE_OPTIONS.map(([n, , d]) => [`--${n}`, d])),
    '',
    'Stops on Ctrl-C or SIGTERM, answering the requests in flight first.',
    '',
  ].join('\n');
}

/** `flash serve …`: parses and checks the flags (every problem at once), then runs the serve command. */
export async function serveCli(tokens: string[], deps: CliDeps): Promise<void> {
  const { io } = deps;
  if (wantsHelp(tokens)) return io.out(serveHelp());
  const { positionals, values, problems, str } = parseCommandFlags(tokens, SERVE_OPTIONS);
  for (const w of positionals) problems.push(`unexpected argument '${w}'`);
  const int = (name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = str(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (!/^[+-]?\d+$/.test(v) || n < min || n > max) {
      problems.push(`--${name}: expected an integer from ${min} to ${max}, got '${v}'`);
      return def;
    }
    return n;
  };
  const model = str('model');
  if (model === undefined && !values.has('model')) problems.push("missing required option '--model' (a run folder, e.g. runs/image_classification-…)");
  const host = str('host') ?? '127.0.0.1';
  const port = int('port', 8000, 0, 65535);
  const topK = int('top_k', 3, 1, 1000);
  const threshold = fraction('threshold', problems, str);
  const batchSize = int('batch_size', 32, 1, 1024);
  const maxBodyText = str('max_body');
  let maxBody = 10 * 1024 * 1024;
  if (maxBodyText !== undefined) {
    const bytes = parseByteSize(maxBodyText);
    if (bytes === undefined || bytes < 1) problems.push(`--max_body: expected a size such as 10MB, 512KB or a number of bytes, got '${maxBodyText}'`);
    else maxBody = bytes;
  }
  const backend = str('backend') ?? 'auto';
  const allowed = ['auto', ...deps.registries.backends.names()];
  if (!allowed.includes(backend)) problems.push(`--backend: unknown backend '${backend}'${didYouMean(backend, allowed)}; available: ${allowed.join(', ')}`);
  if (problems.length) throw new FlashUserError(formatProblems(problems));
  if (!deps.commands.serve) throw new FlashUserError('this flash has no serve command');
  const args: ServeArgs = { model: model!, host, port, maxBody, backend, topK, batchSize, io };
  if (threshold !== undefined) args.threshold = threshold;
  if (values.get('quiet') === true) args.quiet = true;
  await deps.commands.serve(args);
}
