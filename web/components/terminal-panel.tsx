import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { PtyInfo } from '../types.js';

/** Output chars parsed before they are acknowledged (VS Code's terminal acks at 5,000 as well). */
export const ACK_BATCH_CHARS = 5_000;
/** Parsed output below the batch is acknowledged this long after (never left unacknowledged). */
export const ACK_FLUSH_MS = 100;
/** A panel resized by dragging settles before the PTY is told (every resize redraws the program). */
export const RESIZE_SETTLE_MS = 50;

type ServerFrame =
  | { type: 'snapshot'; data: string; cols: number; rows: number }
  | { type: 'output'; data: string }
  | { type: 'exit'; exitCode: number | null; signal: string | null }
  | { type: 'error'; error: { code: string; message: string } };

type Status = { kind: 'connecting' } | { kind: 'live' } | { kind: 'notice' | 'ended'; text: string };

/**
 * One PTY in xterm.js over `/api/ptys/:id/stream`: the screen first, then live output acked once
 * xterm has parsed it, typing and paste as input, the panel's size as the PTY's, copy on select.
 * Mounted only while its tab is shown: a hidden tab holds no stream and redraws from a screen.
 */
export function TerminalPanel({ pty }: { pty: PtyInfo }) {
  const host = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>({ kind: 'connecting' });

  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    // No blinking: xterm.js's DOM renderer blinks with an endless CSS animation, so Chromium draws
    // every frame while a terminal has the focus (measured: ~5 % of a core per focused page doing
    // nothing) and an echo's row is drawn a frame late (echo frame → row: 17.7 ms at the median
    // with it, 2.6 ms without; docs/performance.md, Dashboard). VS Code's terminal does not blink
    // by default either.
    const term = new Terminal({ scrollback: 5_000, fontSize: 13, cursorBlink: false, allowProposedApi: false });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    // The server speaks plain HTTP on loopback (docs/api.md): no TLS, so no wss.
    const ws = new WebSocket(`ws://${location.host}/api/ptys/${encodeURIComponent(pty.id)}/stream`);
    const send = (frame: object) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
    };
    let unacked = 0;
    let drawingSnapshot = false;
    let ackLater: number | undefined;
    const ackNow = () => {
      window.clearTimeout(ackLater);
      ackLater = undefined;
      if (unacked === 0) return;
      send({ type: 'ack', chars: unacked });
      unacked = 0;
    };
    const parsed = (chars: number) => {
      unacked += chars;
      if (unacked >= ACK_BATCH_CHARS) ackNow();
      // The rest is acked soon too: a server that stopped sending at its bound waits for it.
      else ackLater ??= window.setTimeout(ackNow, ACK_FLUSH_MS);
    };
    let settle: number | undefined;
    const fitToPanel = () => {
      window.clearTimeout(settle);
      settle = window.setTimeout(() => fit.fit(), RESIZE_SETTLE_MS);
    };
    const observer = new ResizeObserver(fitToPanel);
    observer.observe(element);
    const disposables = [
      term.onData((data) => send({ type: 'input', data })),
      // Only the panel's size goes to the PTY, not the PTY's own size a screen is drawn at.
      term.onResize(({ cols, rows }) => {
        if (!drawingSnapshot) send({ type: 'resize', cols, rows });
      }),
      term.onSelectionChange(() => {
        const text = term.getSelection();
        // Copy on select, as terminals do; a page without clipboard permission just does not copy.
        if (text !== '') navigator.clipboard?.writeText(text).catch(() => {});
      }),
    ];
    ws.onmessage = (message) => {
      const frame = JSON.parse(String(message.data)) as ServerFrame;
      switch (frame.type) {
        case 'snapshot':
          // In the write queue's order: output still queued before it is parsed (and counted)
          // first, then the terminal is reset (RIS) and drawn at the PTY's size, then fitted.
          term.write('\u001bc', () => {
            drawingSnapshot = true;
            term.resize(frame.cols, frame.rows);
            drawingSnapshot = false;
            unacked = 0;
          });
          term.write(frame.data, () => fit.fit());
          setStatus({ kind: 'live' });
          return;
        case 'output':
          term.write(frame.data, () => parsed(frame.data.length));
          return;
        case 'exit':
          setStatus({ kind: 'ended', text: exitText(frame.exitCode, frame.signal) });
          return;
        case 'error':
          // A refused frame (input to a PTY that is restarting, say): the stream goes on.
          setStatus({ kind: 'notice', text: `${frame.error.code}: ${frame.error.message}` });
          return;
      }
    };
    ws.onclose = () => setStatus((now) => (now.kind === 'ended' ? now : { kind: 'ended', text: 'disconnected' }));
    // No focus taken here: arrow keys on the lane list or the tabs must not go into a PTY.
    return () => {
      window.clearTimeout(settle);
      window.clearTimeout(ackLater);
      observer.disconnect();
      for (const disposable of disposables) disposable.dispose();
      ws.onclose = null;
      ws.close();
      term.dispose();
    };
  }, [pty.id]);

  return (
    <div class="terminal-panel">
      <div class="terminal" ref={host} data-pty={pty.id} />
      {(status.kind === 'ended' || status.kind === 'notice') && (
        <p class="terminal-status" role="status">
          {status.text}
        </p>
      )}
    </div>
  );
}

function exitText(exitCode: number | null, signal: string | null): string {
  if (signal !== null) return `the process ended by ${signal}`;
  return `the process exited with code ${exitCode ?? 'unknown'}`;
}
