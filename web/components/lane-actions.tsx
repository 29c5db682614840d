import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { ExecResult, LaneView, RestartType } from '../types.js';
import { FieldForm } from './field-form.js';
import { ErrorText, succeeded, useAction } from './use-action.js';

const DEFAULT_BLOCK_REASON = 'blocked from the dashboard';

/** A command line as a person types it, run by the shell (`sh -c`), as in a terminal. */
function shellArgv(command: string): string[] {
  return ['sh', '-c', command];
}

export function NewTerminalForm({ lane, onSpawned }: { lane: LaneView; onSpawned(ptyId: string): void }) {
  const [command, setCommand] = useState('');
  const [restart, setRestart] = useState<RestartType>('temporary');
  const action = useAction();
  return (
    <form
      class="inline-form"
      aria-label="New terminal"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(async () => {
          const trimmed = command.trim();
          const pty = await api.spawn(lane.id, {
            ...(trimmed === '' ? {} : { command: 'sh', args: ['-c', trimmed] }),
            restart,
          });
          setCommand('');
          onSpawned(pty.id);
        });
      }}
    >
      <input
        aria-label="Terminal command"
        placeholder="command (empty: a shell)"
        value={command}
        onInput={(event) => setCommand(event.currentTarget.value)}
      />
      <select
        aria-label="Restart type"
        value={restart}
        onChange={(event) => setRestart(event.currentTarget.value as RestartType)}
      >
        <option value="temporary">temporary</option>
        <option value="transient">transient</option>
        <option value="permanent">permanent</option>
      </select>
      <button type="submit" disabled={action.busy}>
        New terminal
      </button>
      <ErrorText error={action.error} />
    </form>
  );
}

export function ExecForm({ lane }: { lane: LaneView }) {
  const [result, setResult] = useState<ExecResult | null>(null);
  const action = useAction();
  return (
    <div class="exec-form">
      <FieldForm
        name="Run a command"
        label="Command to run"
        placeholder="run a command in the worktree"
        button={action.busy ? 'Running…' : 'Run'}
        busy={action.busy}
        onSubmit={(command) => succeeded(action, async () => setResult(await api.exec(lane.id, shellArgv(command))))}
      />
      <ErrorText error={action.error} />
      {result !== null && (
        <div class="exec-result" role="status">
          <p>
            {result.timedOut
              ? 'timed out'
              : result.signal !== null
                ? `ended by ${result.signal}`
                : `exit code ${result.exitCode}`}{' '}
            in {Math.round(result.durationMs)} ms
          </p>
          {result.stdout !== '' && <pre class="exec-stdout">{result.stdout}</pre>}
          {result.stderr !== '' && <pre class="exec-stderr">{result.stderr}</pre>}
        </div>
      )}
    </div>
  );
}

/** Share, attach, detach, block and unblock: each answered with the lane as it left it. */
export function AgentActions({ lane }: { lane: LaneView }) {
  const action = useAction();
  return (
    <div class="agent-actions">
      <p>Agents: {lane.agents.length === 0 ? 'none' : ''}</p>
      <ul class="agents">
        {lane.agents.map((agent) => (
          <li key={agent}>
            {agent}{' '}
            <button
              type="button"
              disabled={action.busy}
              onClick={() => action.run(async () => void (await api.detach(lane.id, agent)))}
            >
              Detach {agent}
            </button>
          </li>
        ))}
      </ul>
      <FieldForm
        name="Attach an agent"
        label="Agent id"
        placeholder="agent id"
        button="Attach"
        busy={action.busy}
        onSubmit={(agentId) => succeeded(action, () => api.attach(lane.id, agentId))}
      >
        {!(lane.shared ?? lane.state === 'shared') && (
          <button
            type="button"
            disabled={action.busy}
            onClick={() => action.run(async () => void (await api.share(lane.id)))}
          >
            Share
          </button>
        )}
      </FieldForm>
      {lane.state === 'blocked' ? (
        <button
          type="button"
          disabled={action.busy}
          onClick={() => action.run(async () => void (await api.unblock(lane.id)))}
        >
          Unblock
        </button>
      ) : (
        <FieldForm
          name="Block the lane"
          label="Block reason"
          placeholder="reason"
          button="Block"
          busy={action.busy}
          allowEmpty
          onSubmit={(reason) =>
            succeeded(action, () => api.block(lane.id, reason === '' ? DEFAULT_BLOCK_REASON : reason))
          }
        />
      )}
      <ErrorText error={action.error} />
    </div>
  );
}
