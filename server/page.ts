import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The dashboard's page: a shell that loads the bundle `npm run build` made (web/ → dist/web/).
 * It holds no data and no script of its own, so it is served without the token; it says whether
 * the request carried the token, so an unauthorized page explains itself at once.
 */
export function dashboardPage(authorized: boolean): string {
  return `<!doctype html>
<html lang="en" data-authorized="${authorized ? 'yes' : 'no'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lanevisor</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<div id="app"><noscript>The lanevisor dashboard needs JavaScript. The HTTP API is described by <a href="/api/openapi.json">/api/openapi.json</a>.</noscript></div>
</body>
</html>
`;
}

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const ASSET_TYPES: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * The built bundle, read once: from dist/web beside the compiled server, or from the package's
 * dist/web when the server runs from its sources (the tests). Empty when it was not built.
 */
export function loadAssets(): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  const directory = [new URL('../web/', import.meta.url), new URL('../dist/web/', import.meta.url)].find((candidate) =>
    existsSync(new URL('app.js', candidate)),
  );
  if (directory === undefined) return assets;
  for (const [name, type] of Object.entries(ASSET_TYPES)) {
    const file = new URL(name, directory);
    if (existsSync(file)) assets.set(name, { type, body: readFileSync(fileURLToPath(file)) });
  }
  return assets;
}
