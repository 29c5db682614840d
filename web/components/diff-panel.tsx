import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import type { LaneDiff, LaneView } from '../types.js';
import { FieldForm } from './field-form.js';
import { ErrorText, succeeded, useAction } from './use-action.js';

/** Merge takes the lane's commits; the changes shown below include what is not committed. */
const UNCOMMITTED_NOT_MERGED = ' Its uncommitted changes were not merged: commit them, then merge again.';

/** The lane's work against its base (committed and not), a commit box, and the merge into the base. */
export function DiffPanel({ lane }: { lane: LaneView }) {
  const [diff, setDiff] = useState<ShownDiff | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const action = useAction();
  const reload = async () => setDiff(await shownDiff(lane));
  const load = () => action.run(reload);

  useEffect(() => {
    setDiff(null);
    setNotice(null);
    void load();
  }, [lane.id]);

  return (
    <section class="diff-panel" aria-label="Changes">
      <div class="inline-form">
        <button type="button" onClick={() => void load()} disabled={action.busy}>
          Refresh
        </button>
        <button
          type="button"
          disabled={action.busy}
          onClick={() =>
            action.run(async () => {
              const merged = await api.merge(lane.id);
              setNotice(
                `Merged into ${merged.into} as ${merged.commit.slice(0, 12)}.${merged.uncommitted ? UNCOMMITTED_NOT_MERGED : ''}`,
              );
              await reload();
            })
          }
        >
          {lane.baseRef === 'HEAD' ? 'Merge into the checked-out branch' : `Merge into ${lane.baseRef}`}
        </button>
      </div>
      <FieldForm
        name="Commit"
        label="Commit message"
        placeholder="commit message"
        button="Commit all"
        busy={action.busy}
        onSubmit={(message) =>
          succeeded(action, async () => {
            const result = await api.commit(lane.id, message);
            setNotice(result.commit === null ? 'Nothing to commit.' : `Committed ${result.commit.slice(0, 12)}.`);
            await reload();
          })
        }
      />
      {notice !== null && <p role="status">{notice}</p>}
      <ErrorText error={action.error} />
      {diff !== null &&
        (diff.files.length === 0 ? (
          <p class="empty">No changes against {lane.baseRef}.</p>
        ) : (
          <>
            <table class="diff-files">
              <thead>
                <tr>
                  <th scope="col">File</th>
                  <th scope="col">Status</th>
                  <th scope="col">+</th>
                  <th scope="col">−</th>
                  <th scope="col">Committed</th>
                </tr>
              </thead>
              <tbody>
                {diff.files.map((file) => (
                  <tr key={file.path}>
                    <td>{file.path}</td>
                    <td>{file.status}</td>
                    <td>{file.additions ?? 'bin'}</td>
                    <td>{file.deletions ?? 'bin'}</td>
                    <td>{diff.notCommitted.has(file.path) ? 'no' : 'yes'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <pre class="patch">
              {diff.patch.split('\n').map((line, index) => (
                <span key={index} class={patchClass(line)}>
                  {line}
                  {'\n'}
                </span>
              ))}
            </pre>
          </>
        ))}
    </section>
  );
}

interface ShownDiff extends LaneDiff {
  /** Paths the worktree holds changes to that are not in the lane's last commit (merge leaves them). */
  readonly notCommitted: ReadonlySet<string>;
}

/** Against the base, all of it; against the lane's own tip, what is not committed yet. */
async function shownDiff(lane: LaneView): Promise<ShownDiff> {
  const [all, uncommitted] = await Promise.all([api.diff(lane.id), api.uncommitted(lane)]);
  return { ...all, notCommitted: new Set(uncommitted.files.map((file) => file.path)) };
}

function patchClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---')) return 'patch-file';
  if (line.startsWith('+')) return 'patch-add';
  if (line.startsWith('-')) return 'patch-del';
  if (line.startsWith('@@')) return 'patch-hunk';
  return '';
}
