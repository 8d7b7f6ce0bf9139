import { fileURLToPath, URL } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';
import { emojiData } from './build/emoji-data';

// Set by `tauri dev` when the webview runs on another device (mobile); unused on desktop.
const host = process.env['TAURI_DEV_HOST'];

export default defineConfig({
  plugins: [svelte(), emojiData()],
  resolve: {
    alias: { $lib: fileURLToPath(new URL('./src/lib', import.meta.url)) },
  },
  // Keep Rust errors visible when run by `tauri dev`.
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    host: host ?? false,
    hmr: host ? { protocol: 'ws', host, port: 1421 } : undefined,
    watch: { ignored: ['**/src-tauri/**'] },
  },
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  build: {
    // The webviews Tauri v2 supports (WebKitGTK 2.40+, WKWebView, WebView2) all run ES2022.
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // Keep every asset a file served from the app origin rather than a data: URL.
    assetsInlineLimit: 0,
    minify: process.env['TAURI_ENV_DEBUG'] ? false : 'esbuild',
    sourcemap: Boolean(process.env['TAURI_ENV_DEBUG']),
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
