import type { Metadata, Viewport } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { getApiBaseUrl } from './_lib/config';
import { Providers } from './providers';
import './globals.css';

export const metadata: Metadata = {
  title: {
    default: 'Switchboard',
    template: '%s · Switchboard',
  },
  description: 'Maestro Switchboard — the Maestro Conductor control plane UI',
  applicationName: 'Maestro Switchboard',
};

export const viewport: Viewport = {
  colorScheme: 'light dark',
  themeColor: [
    { media: '(prefers-color-scheme: light)', color: '#f7f8fa' },
    { media: '(prefers-color-scheme: dark)', color: '#0f1115' },
  ],
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const apiBaseUrl = await getApiBaseUrl();
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to main content
        </a>
        <header className="site-header">
          <div className="site-header__inner">
            <Link className="brand" href="/">
              <svg className="brand__mark" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                <circle cx="6" cy="6" r="2.5" />
                <circle cx="18" cy="6" r="2.5" />
                <circle cx="6" cy="18" r="2.5" />
                <circle cx="18" cy="18" r="2.5" />
                <path d="M6 6 L18 18 M18 6 L6 18" strokeWidth="1.6" />
              </svg>
              <span>Maestro Switchboard</span>
            </Link>
          </div>
        </header>
        <Providers config={{ apiBaseUrl }}>
          <main id="main" className="site-main" tabIndex={-1}>
            {children}
          </main>
        </Providers>
      </body>
    </html>
  );
}
