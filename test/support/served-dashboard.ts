import { type ChildProcess, spawn } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { callApi, stopServe } from '../../bench/dashboard-serve.js';
import { freePort } from '../../bench/nats-server.js';
import { launchChromium } from './browser.js';
import { runLanevisor } from './cli.js';
import { distModule, killChild, lineFrom } from './dist.js';
import { createTempRepo, type TempRepo } from './git-repo.js';

/** What `serve --json` prints: the page's address and the token it asks for. */
export interface ServedAddress {
  readonly url: string;
  readonly token: string;
}

/**
 * What the browser tests run against: a real `lanevisor serve` on a temp repository and a headless
 * Chromium. The server can be stopped and started again on the same port (so that open pages
 * reconnect to it); `dispose` discards every lane the tests made and removes the repository.
 */
export class ServedDashboard {
  /** Changes when the server is started again with its token file removed. */
  served: ServedAddress = { url: '', token: '' };
  #child: ChildProcess | undefined;

  private constructor(
    readonly repo: TempRepo,
    readonly browser: Browser,
    readonly port: number,
    readonly extraArgs: readonly string[],
  ) {}

  /** A fresh repository, `serve` on a free port (with `extraArgs`, e.g. `--nats`), and Chromium. */
  static async start(extraArgs: readonly string[] = []): Promise<ServedDashboard> {
    const repo = createTempRepo();
    let browser: Browser | undefined;
    let dashboard: ServedDashboard | undefined;
    try {
      browser = await launchChromium();
      dashboard = new ServedDashboard(repo, browser, await freePort(), extraArgs);
      await dashboard.startServe();
      return dashboard;
    } catch (error) {
      // Half made: nothing of it may outlive the failed start.
      if (dashboard !== undefined) await dashboard.dispose().catch(() => undefined);
      else {
        await browser?.close();
        repo.dispose();
      }
      throw error;
    }
  }

  async startServe(): Promise<void> {
    const running = this.#child;
    if (running !== undefined && running.exitCode === null && running.signalCode === null) {
      throw new Error('serve is running already: stopServe() first');
    }
    const args = [distModule('cli/main.js'), 'serve', '--json', '--repo', this.repo.path, '--port', `${this.port}`];
    this.#child = spawn(process.execPath, [...args, ...this.extraArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.served = JSON.parse(await lineFrom(this.#child)) as ServedAddress;
  }

  /** SIGTERM, as a person's Ctrl-C would, and waits for the server to be gone. */
  async stopServe(): Promise<void> {
    if (this.#child !== undefined) await stopServe({ child: this.#child });
  }

  callApi<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return callApi<T>(this.served, method, path, body);
  }

  /** Every step runs whatever the one before did; the first failure is reported after the rest. */
  async dispose(): Promise<void> {
    const failures: unknown[] = [];
    const step = async (run: () => unknown) => {
      try {
        await run();
      } catch (error) {
        failures.push(error);
      }
    };
    await step(() => this.browser.close());
    await step(() => killChild(this.#child));
    await step(async () => {
      const clean = await runLanevisor(['clean', '--all', '--discard', '--repo', this.repo.path]);
      if (clean.code !== 0) throw new Error(`lanevisor clean --all --discard failed (${clean.code}): ${clean.stderr}`);
    });
    await step(() => this.repo.dispose());
    if (failures.length > 0) throw failures[0];
  }
}
