import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The correlation id of the operation being handled, carried through async calls with
 * AsyncLocalStorage (one store per bus, no global variable), so that events published while a
 * command or an event is handled carry its correlation id without passing it by hand.
 */
export class CorrelationScope {
  readonly #storage = new AsyncLocalStorage<string>();

  current(): string | undefined {
    return this.#storage.getStore();
  }

  run<TArgs extends unknown[], TResult>(
    correlationId: string,
    fn: (...args: TArgs) => TResult,
    ...args: TArgs
  ): TResult {
    return this.#storage.run(correlationId, fn, ...args);
  }
}
