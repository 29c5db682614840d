import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { ExecResult, LaneView, RestartType } from '../types.js';
import { ErrorText, useAction } from './use-action.js';

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
  const [command, setCommand] = useState('');
  const [result, setResult] = useState<ExecResult | null>(null);
  const action = useAction();
  return (
    <form
      class="inline-form exec-form"
      aria-label="Run a command"
      onSubmit={(event) => {
        event.preventDefault();
        if (command.trim() === '') return;
        void action.run(async () => setResult(await api.exec(lane.id, shellArgv(command))));
      }}
    >
      <input
        aria-label="Command to run"
        placeholder="run a command in the worktree"
        value={command}
        onInput={(event) => setCommand(event.currentTarget.value)}
      />
      <button type="submit" disabled={action.busy}>
        {action.busy ? 'Running…' : 'Run'}
      </button>
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
    </form>
  );
}

/** Share, attach, detach, block and unblock: each answered with the lane as it left it. */
export function AgentActions({ lane }: { lane: LaneView }) {
  const [agentId, setAgentId] = useState('');
  const [reason, setReason] = useState('');
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
      <form
        class="inline-form"
        aria-label="Attach an agent"
        onSubmit={(event) => {
          event.preventDefault();
          if (agentId.trim() === '') return;
          void action.run(async () => {
            await api.attach(lane.id, agentId.trim());
            setAgentId('');
          });
        }}
      >
        <input
          aria-label="Agent id"
          placeholder="agent id"
          value={agentId}
          onInput={(e) => setAgentId(e.currentTarget.value)}
        />
        <button type="submit" disabled={action.busy}>
          Attach
        </button>
        {lane.state !== 'shared' && (
          <button
            type="button"
            disabled={action.busy}
            onClick={() => action.run(async () => void (await api.share(lane.id)))}
          >
            Share
          </button>
        )}
      </form>
      {lane.state === 'blocked' ? (
        <button
          type="button"
          disabled={action.busy}
          onClick={() => action.run(async () => void (await api.unblock(lane.id)))}
        >
          Unblock
        </button>
      ) : (
        <form
          class="inline-form"
          aria-label="Block the lane"
          onSubmit={(event) => {
            event.preventDefault();
            void action.run(async () => {
              await api.block(lane.id, reason.trim() === '' ? 'blocked from the dashboard' : reason.trim());
              setReason('');
            });
          }}
        >
          <input
            aria-label="Block reason"
            placeholder="reason"
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
          <button type="submit" disabled={action.busy}>
            Block
          </button>
        </form>
      )}
      <ErrorText error={action.error} />
    </div>
  );
}
