import { useState } from 'preact/hooks';
import { messageOf } from '../api.js';

export interface ActionState {
  readonly busy: boolean;
  readonly error: string | null;
  /** Runs the action unless one is running; its error is shown, never thrown. */
  run(action: () => Promise<void>): Promise<void>;
}

/** One button's or form's request: busy while it runs, its error kept until the next run. */
export function useAction(): ActionState {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return {
    busy,
    error,
    async run(action) {
      if (busy) return;
      setBusy(true);
      setError(null);
      try {
        await action();
      } catch (caught) {
        setError(messageOf(caught));
      } finally {
        setBusy(false);
      }
    },
  };
}

/** Runs `action` as `state`'s action; true when it succeeded (a field form then clears itself). */
export async function succeeded(state: ActionState, action: () => Promise<unknown>): Promise<boolean> {
  let ok = false;
  await state.run(async () => {
    await action();
    ok = true;
  });
  return ok;
}

export function ErrorText({ error }: { error: string | null }) {
  return error === null ? null : (
    <p class="error" role="alert">
      {error}
    </p>
  );
}
