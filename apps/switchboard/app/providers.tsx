'use client';

import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext } from 'react';

/** Runtime configuration handed from the server (root layout) to client components. */
export interface SwitchboardConfig {
  /** Maestro API base URL without trailing slash, e.g. `http://127.0.0.1:4000`. */
  apiBaseUrl: string;
}

const ConfigContext = createContext<SwitchboardConfig | null>(null);

export function useSwitchboardConfig(): SwitchboardConfig {
  const config = useContext(ConfigContext);
  if (!config) throw new Error('useSwitchboardConfig must be used inside <Providers>');
  return config;
}

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: true,
      },
    },
  });
}

let browserQueryClient: QueryClient | undefined;

function getQueryClient(): QueryClient {
  // A fresh client per server render keeps requests isolated; the browser reuses one client so
  // the cache survives re-renders (and React suspending during the initial render).
  if (typeof window === 'undefined') return makeQueryClient();
  browserQueryClient ??= makeQueryClient();
  return browserQueryClient;
}

export function Providers({ config, children }: { config: SwitchboardConfig; children: ReactNode }) {
  return (
    <ConfigContext value={config}>
      <QueryClientProvider client={getQueryClient()}>{children}</QueryClientProvider>
    </ConfigContext>
  );
}
