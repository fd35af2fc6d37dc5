import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is built into dist/console, which `hush serve` serves at `/`.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  base: '/',
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    sourcemap: true,
  },
});
