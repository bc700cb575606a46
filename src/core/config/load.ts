import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { FlashUserError } from '../errors.js';

/** A recipe file as read: its parsed content (not yet validated) and where it was. */
export interface LoadedRecipeFile {
  config: unknown;
  filepath: string;
}

/** Where cosmiconfig looks for a recipe, in order (only in the working directory itself). */
export const RECIPE_SEARCH_PLACES = [
  'package.json',
  '.flashrc',
  '.flashrc.json',
  '.flashrc.yaml',
  '.flashrc.yml',
  'flash.config.yaml',
  'flash.config.yml',
  'flash.config.json',
  'flash.config.js',
  'flash.config.cjs',
  'flash.config.mjs',
] as const;

function explorer() {
  return cosmiconfig('flash', {
    searchPlaces: [...RECIPE_SEARCH_PLACES],
    // 'none' looks in the start folder only (cosmiconfig refuses stopDir with it; the effect is stopDir = cwd).
    searchStrategy: 'none',
    cache: false,
  });
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}

/**
 * Reads a recipe file: `.yaml`/`.yml`/`.json` (and, through cosmiconfig, `.js`/`.cjs`/`.mjs` or an
 * extension-less rc file). A missing file or a parse error is a user error naming the file.
 */
export async function loadRecipeFile(file: string, cwd = process.cwd()): Promise<LoadedRecipeFile> {
  const filepath = path.resolve(cwd, file);
  const ext = path.extname(filepath).toLowerCase();
  if (['.yaml', '.yml', '.json', ''].includes(ext)) {
    let text: string;
    try {
      text = await readFile(filepath, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (err as Error).message;
      throw new FlashUserError(`recipe ${file}: ${why}`);
    }
    try {
      if (ext === '.json') return { config: text.trim() === '' ? {} : JSON.parse(text), filepath };
      return { config: parseYaml(text) ?? {}, filepath };
    } catch (err) {
      if (err instanceof YAMLParseError) {
        const pos = err.linePos?.[0];
        const loc = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
        throw new FlashUserError(`recipe ${file}: invalid YAML${loc}: ${firstLine(err.message.replace(/ at line \d+, column \d+:?.*$/s, ''))}`);
      }
      throw new FlashUserError(`recipe ${file}: invalid JSON: ${firstLine((err as Error).message)}`);
    }
  }
  if (!['.js', '.cjs', '.mjs'].includes(ext)) {
    throw new FlashUserError(`recipe ${file}: unsupported file type '${ext}' (use .yaml, .yml, .json, .js, .cjs or .mjs)`);
  }
  try {
    const found = await explorer().load(filepath);
    return { config: found?.config ?? {}, filepath };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FlashUserError(`recipe ${file}: no such file`);
    throw new FlashUserError(`recipe ${file}: could not load: ${firstLine((err as Error).message)}`);
  }
}

/**
 * Looks for a recipe in `cwd` only (never in parent folders): `flash.config.{yaml,yml,json,js,cjs,mjs}`,
 * `.flashrc`, `.flashrc.{json,yaml,yml}` or a "flash" key in package.json. Null when there is none.
 */
export async function findRecipeFile(cwd: string): Promise<LoadedRecipeFile | null> {
  let found;
  try {
    found = await explorer().search(cwd);
  } catch (err) {
    const file = (err as { filepath?: string }).filepath;
    throw new FlashUserError(`recipe ${file ?? 'in ' + cwd}: could not load: ${firstLine((err as Error).message)}`);
  }
  if (!found) return null;
  if (path.dirname(found.filepath) !== path.resolve(cwd)) return null;
  return { config: found.config ?? {}, filepath: found.filepath };
}
