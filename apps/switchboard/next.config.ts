import type { NextConfig } from 'next';

/**
 * Switchboard — Next.js config.
 *
 * Closed-network notes (the build must never reach the internet):
 * - Telemetry: set NEXT_TELEMETRY_DISABLED=1 in the environment (the package.json scripts and
 *   e2e/scripts/serve-switchboard.sh already do). Next reads it from the environment, not from this file.
 * - `experimental.agentUpgrade: false` turns off the upgrade/security-advisory check that Next 16.4
 *   runs during `next build` and `next dev` (it queries registry.npmjs.org).
 * - No `next/font/google` (it downloads fonts at build time); globals.css uses the system font stack.
 * - The SWC/Turbopack native binary comes from the installed `@next/swc-linux-x64-gnu` package;
 *   Next only tries to download one when that package is missing.
 *
 * The API base URL is deliberately NOT inlined at build time: it is read per request on the server
 * (lib/config.ts) so one build can be pointed at any API.
 */
const nextConfig: NextConfig = {
  reactStrictMode: true,
  typedRoutes: false,
  poweredByHeader: false,
  // Don't write/maintain AGENTS.md blocks in the app directory on `next dev`.
  agentRules: false,
  experimental: {
    agentUpgrade: false,
  },
};

export default nextConfig;
