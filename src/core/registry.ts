import { FlashUserError } from './errors.js';
import { didYouMean } from './suggest.js';

/** An entry in a registry: the item plus a one-line description shown by `flash list` and `--help`. */
export interface RegistryEntry<T> {
  name: string;
  description: string;
  item: T;
}

/**
 * A named collection of pluggable things (tasks, backbones, optimizers, metrics, callbacks, loggers, backends).
 * Adding one is one file and one `register` line; the CLI, `--help` and `flash list` read the registry.
 */
export class Registry<T> {
  private readonly entries = new Map<string, RegistryEntry<T>>();

  /** @param kind what the registry holds, singular ("backbone"), used in error messages. */
  constructor(readonly kind: string) {}

  /** Adds an item; registering the same name twice is a programming error. */
  register(name: string, item: T, description = ''): this {
    if (this.entries.has(name)) throw new Error(`${this.kind} '${name}' is already registered`);
    this.entries.set(name, { name, item, description });
    return this;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The item, or a user error listing the available names and the closest match. */
  get(name: string): T {
    const entry = this.entries.get(name);
    if (entry) return entry.item;
    const names = this.names();
    throw new FlashUserError(
      `unknown ${this.kind} '${name}'${didYouMean(name, names)}; available: ${names.join(', ')}`,
    );
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  list(): RegistryEntry<T>[] {
    return [...this.entries.values()];
  }
}
