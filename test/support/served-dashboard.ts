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
    const browser = await launchChromium();
    const dashboard = new ServedDashboard(repo, browser, await freePort(), extraArgs);
    await dashboard.startServe();
    return dashboard;
  }

  async startServe(): Promise<void> {
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

  async dispose(): Promise<void> {
    await this.browser.close();
    await killChild(this.#child);
    await runLanevisor(['clean', '--all', '--discard', '--repo', this.repo.path]);
    this.repo.dispose();
  }
}
