import { useEffect, useRef, useState } from 'preact/hooks';
import { api, messageOf } from '../api.js';
import { laneName } from '../format.js';
import type { CleanupReport, LaneDiff, LaneView } from '../types.js';
import { ErrorText, useAction } from './use-action.js';

interface CleanupDialogProps {
  readonly lane: LaneView;
  onClose(): void;
  onCleaned(report: CleanupReport, name: string): void;
}

/**
 * Cleaning up asks first, and says what happens to the lane's work: its changes against the base
 * are listed, and they are salvaged (kept at a ref) unless "discard" is ticked.
 */
export function CleanupDialog({ lane, onClose, onCleaned }: CleanupDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [diff, setDiff] = useState<LaneDiff | string | null>(null);
  const [discard, setDiscard] = useState(false);
  const action = useAction();

  useEffect(() => {
    dialog.current?.showModal();
    api.diff(lane.id).then(setDiff, (error: unknown) => setDiff(messageOf(error)));
  }, [lane.id]);

  const files = typeof diff === 'object' && diff !== null ? diff.files : null;
  return (
    <dialog ref={dialog} class="cleanup-dialog" aria-labelledby="cleanup-title" onCancel={onClose}>
      <h2 id="cleanup-title">Clean up lane {laneName(lane)}?</h2>
      <p>
        Its {lane.ptys.length} terminal(s) are stopped and its worktree <code>{lane.worktreePath}</code> is removed.
      </p>
      {diff === null && <p>Looking at its work…</p>}
      {typeof diff === 'string' && <p class="error">Its work could not be read: {diff}</p>}
      {files !== null &&
        (files.length === 0 ? (
          <p class="salvage-summary">It holds no work beyond its base: nothing needs to be salvaged.</p>
        ) : (
          <div class="salvage-summary">
            <p>
              {files.length} changed file(s) beyond its base{' '}
              {discard ? 'will be thrown away.' : 'will be salvaged: kept at a ref you can check out later.'}
            </p>
            <ul>
              {files.slice(0, 20).map((file) => (
                <li key={file.path}>
                  {file.status} {file.path}
                </li>
              ))}
            </ul>
          </div>
        ))}
      <label class="discard">
        <input type="checkbox" checked={discard} onChange={(event) => setDiscard(event.currentTarget.checked)} />{' '}
        Discard its work instead of salvaging it
      </label>
      <ErrorText error={action.error} />
      <div class="dialog-buttons">
        <button type="button" onClick={onClose} disabled={action.busy}>
          Cancel
        </button>
        <button
          type="button"
          class={discard ? 'danger' : 'primary'}
          disabled={action.busy}
          onClick={() =>
            action.run(async () => {
              const report = await api.cleanup(lane.id, discard);
              onCleaned(report, laneName(lane));
            })
          }
        >
          {action.busy ? 'Cleaning up…' : discard ? 'Discard and clean up' : 'Clean up'}
        </button>
      </div>
    </dialog>
  );
}
