/** The page at `/` until the dashboard exists: static, no script, pointing at the API's document. */
export const PLACEHOLDER_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lanevisor</title>
</head>
<body>
<h1>lanevisor</h1>
<p>The dashboard is not built yet. The HTTP API is described by <a href="/api/openapi.json">/api/openapi.json</a>.</p>
</body>
</html>
`;
