import { LanevisorError } from '../../bus/errors.js';
import { type PtyView, viewPty } from '../pty/pty-view.js';
import type { Pty } from '../pty/types.js';
import type { Runtime } from '../runtime/types.js';
import type { ControlClientMessage, ControlErrorBody, ControlServerMessage } from './control-protocol.js';

type ViewMessage = Extract<ControlClientMessage, { type: `view${string}` }>;

interface OpenView {
  readonly pty: Pty;
  readonly view: PtyView;
  readonly readOnly: boolean;
}

/**
 * One control connection's views of PTYs (`lanevisor attach` to a runtime whose terminals are
 * inline, so no terminal host holds them): `viewPty` decides what the viewer sees; input and
 * resizes go to the PTY unless the view is read-only.
 */
export class ControlViews {
  readonly #views = new Map<number, OpenView>();

  constructor(
    private readonly rt: Runtime,
    private readonly send: (message: ControlServerMessage) => void,
    private readonly errorOf: (error: unknown) => ControlErrorBody,
  ) {}

  receive(message: ViewMessage): void {
    if (message.type === 'view') {
      this.#open(message);
      return;
    }
    const open = this.#views.get(message.id);
    if (open === undefined) return;
    try {
      switch (message.type) {
        case 'view-input':
          if (!open.readOnly) open.pty.write(message.data);
          return;
        case 'view-resize':
          if (!open.readOnly) open.pty.resize(message.cols, message.rows);
          return;
        case 'view-ack':
          open.view.ack(message.chars);
          return;
        case 'view-end':
          open.view.close();
          this.#views.delete(message.id);
          return;
      }
    } catch (error) {
      this.send({ type: 'notice', id: message.id, error: this.errorOf(error) });
    }
  }

  /** The connection is gone: its views end, their PTYs go on. */
  end(): void {
    for (const open of this.#views.values()) open.view.close();
    this.#views.clear();
  }

  #open(message: Extract<ViewMessage, { type: 'view' }>): void {
    const { id } = message;
    const pty = this.rt.getPty(message.ptyId);
    if (pty === undefined) {
      const error = new LanevisorError('NOT_FOUND', `no PTY ${message.ptyId} in this runtime's lanes`);
      this.send({ type: 'reply', id, ok: false, error: this.errorOf(error) });
      return;
    }
    const readOnly = message.readOnly === true;
    try {
      // The most recent viewer's size wins, as with tmux's latest client.
      if (!readOnly && message.cols !== undefined && message.rows !== undefined) pty.resize(message.cols, message.rows);
    } catch (error) {
      this.send({ type: 'reply', id, ok: false, error: this.errorOf(error) });
      return;
    }
    const view = viewPty(pty, {
      screen: (screen) => this.send({ type: 'screen', id, ...screen }),
      output: (data) => this.send({ type: 'output', id, data }),
      exit: (result) => {
        this.#views.delete(id);
        this.send({ type: 'exit', id, exitCode: result.exitCode, signal: result.signal });
      },
      error: (error) => this.send({ type: 'notice', id, error: this.errorOf(error) }),
    });
    this.#views.set(id, { pty, view, readOnly });
  }
}
