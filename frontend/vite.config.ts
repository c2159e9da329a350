import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// In production the API server serves dist/ itself (same origin, API base URL ''),
// so during development the dev server forwards /api to a locally running backend.
const apiProxy = { '/api': { target: 'http://127.0.0.1:8000', changeOrigin: false } };

export default defineConfig({
  plugins: [react()],
  server: { proxy: apiProxy },
  preview: { proxy: apiProxy },
  build: { outDir: 'dist', sourcemap: true },
});
