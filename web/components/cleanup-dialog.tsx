import { useEffect, useRef, useState } from 'preact/hooks';
import { api, messageOf } from '../api.js';
import { laneName } from '../format.js';
import type { CleanupReport, DiffFile, LaneView } from '../types.js';
import { ErrorText, useAction } from './use-action.js';

/** Files shown per list in the dialog; the rest are counted. */
const LISTED_FILES = 20;

interface LaneWork {
  /** Not committed (changed, added, untracked): a cleanup salvages these to a ref. */
  readonly uncommitted: readonly DiffFile[];
  /** Everything beyond the base, committed or not. */
  readonly all: readonly DiffFile[];
}

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
  const [work, setWork] = useState<LaneWork | string | null>(null);
  const [discard, setDiscard] = useState(false);
  const action = useAction();

  useEffect(() => {
    dialog.current?.showModal();
    // What is not committed (salvaged to a ref), and against the base all of it.
    Promise.all([api.uncommitted(lane), api.diff(lane.id)]).then(
      ([uncommitted, all]) => setWork({ uncommitted: uncommitted.files, all: all.files }),
      (error: unknown) => setWork(messageOf(error)),
    );
  }, [lane.id]);

  return (
    <dialog ref={dialog} class="cleanup-dialog" aria-labelledby="cleanup-title" onCancel={onClose}>
      <h2 id="cleanup-title">Clean up lane {laneName(lane)}?</h2>
      <p>
        Its {lane.ptys.length} terminal(s) are stopped and its worktree <code>{lane.worktreePath}</code> is removed.
      </p>
      {work === null && <p>Looking at its work…</p>}
      {typeof work === 'string' && <p class="error">Its work could not be read: {work}</p>}
      {typeof work === 'object' && work !== null && <WorkSummary work={work} lane={lane} discard={discard} />}
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

function WorkSummary({ work, lane, discard }: { work: LaneWork; lane: LaneView; discard: boolean }) {
  const uncommitted = new Set(work.uncommitted.map((file) => file.path));
  const committed = work.all.filter((file) => !uncommitted.has(file.path));
  if (work.all.length === 0 && work.uncommitted.length === 0) {
    return <p class="salvage-summary">It holds no work beyond its base: nothing needs to be salvaged.</p>;
  }
  return (
    <div class="salvage-summary">
      {work.uncommitted.length > 0 && (
        <FileList
          files={work.uncommitted}
          title={`${work.uncommitted.length} uncommitted file(s) ${
            discard ? 'will be thrown away.' : 'will be salvaged: committed to a ref you can check out later.'
          }`}
        />
      )}
      {committed.length > 0 && (
        <FileList
          files={committed}
          title={`${committed.length} file(s) committed on ${lane.branch} ${
            discard ? 'go with the branch, which is deleted.' : 'stay there: the branch is kept.'
          }`}
        />
      )}
    </div>
  );
}

function FileList({ files, title }: { files: readonly DiffFile[]; title: string }) {
  return (
    <>
      <p>{title}</p>
      <ul>
        {files.slice(0, LISTED_FILES).map((file) => (
          <li key={file.path}>
            {file.status} {file.path}
          </li>
        ))}
        {files.length > LISTED_FILES && <li>and {files.length - LISTED_FILES} more</li>}
      </ul>
    </>
  );
}
