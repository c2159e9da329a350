import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// In production the API server serves dist/ itself (same origin, API base URL ''),
// so during development the dev server forwards /api to a locally running backend.
const apiProxy = { '/api': { target: 'http://127.0.0.1:8000', changeOrigin: false } };

// The API server's /docs (Swagger UI) and /redoc pages load these from dist/api-docs/ (ADR 22): copies pinned by
// package-lock.json, served by Hearth itself, so an operator's browser runs no code fetched from a CDN. The names
// must match api/docs.py; their licences travel with them.
const API_DOCS: Record<string, string> = {
  'swagger-ui/swagger-ui-bundle.js': 'swagger-ui-dist/swagger-ui-bundle.js',
  'swagger-ui/swagger-ui-bundle.js.LICENSE.txt': 'swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt',
  'swagger-ui/swagger-ui.css': 'swagger-ui-dist/swagger-ui.css',
  'swagger-ui/favicon-32x32.png': 'swagger-ui-dist/favicon-32x32.png',
  'swagger-ui/LICENSE': 'swagger-ui-dist/LICENSE',
  'swagger-ui/NOTICE': 'swagger-ui-dist/NOTICE',
  'redoc/redoc.standalone.js': 'redoc/bundles/redoc.standalone.js',
  'redoc/redoc.standalone.js.LICENSE.txt': 'redoc/bundles/redoc.standalone.js.LICENSE.txt',
  'redoc/LICENSE': 'redoc/LICENSE',
};

function apiDocs(): Plugin {
  return {
    name: 'hearth-api-docs',
    apply: 'build',
    generateBundle() {
      for (const [name, source] of Object.entries(API_DOCS)) {
        const path = new URL(`./node_modules/${source}`, import.meta.url);
        this.emitFile({ type: 'asset', fileName: `api-docs/${name}`, source: readFileSync(path) });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), apiDocs()],
  server: { proxy: apiProxy },
  preview: { proxy: apiProxy },
  build: { outDir: 'dist', sourcemap: true },
});
