// One config for both builds of tests/react-app.test.mjs: the client (dist/client) and the server
// render (dist/server, `--ssr src/entry-server.tsx`). JSX with React's automatic runtime.
export default {
  logLevel: "warn",
  esbuild: { jsx: "automatic" },
  build: { target: "es2022" },
  ssr: { noExternal: [] },
};
