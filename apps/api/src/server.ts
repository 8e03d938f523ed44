import { createServer, type Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import { signDevToken } from './auth.ts';
import { type Context, createContext } from './context.ts';
import { createErrorFormatter } from './errors.ts';
import type { ApiResources } from './resources.ts';
import { schema } from './schema.ts';

export interface ApiServerOptions {
  corsOrigins: string[];
  /** Serves POST /dev/token (HS256) for demo sign-in; off in production. */
  devAuthSecret?: string | undefined;
  introspection: boolean;
}

export interface ApiServer {
  app: express.Express;
  apollo: ApolloServer<Context>;
  /** Binds the HTTP server; resolves with it once listening. */
  listen(host: string, port: number): Promise<Server>;
  stop(): Promise<void>;
}

export async function createApiServer(
  resources: ApiResources,
  options: ApiServerOptions,
): Promise<ApiServer> {
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  const apollo = new ApolloServer<Context>({
    schema,
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    // A document of more tokens than this is refused before validation (cheap DoS guard).
    parseOptions: { maxTokens: 10_000 },
    // main.ts owns SIGTERM/SIGINT (drain, close stores, exit); Apollo's own handlers would race it.
    stopOnTerminationSignals: false,
    formatError: createErrorFormatter(resources.logger),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer })],
  });
  await apollo.start();

  app.use(cors({ origin: options.corsOrigins, credentials: false, maxAge: 600 }));

  app.get('/healthz', async (_req, res) => {
    const checks = await Promise.allSettled([
      resources.graph.ping(),
      resources.db.$queryRawUnsafe('SELECT 1'),
      resources.queue.ping(),
    ]);
    const [neo4j, postgres, redis] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'down'));
    const ok = checks.every((c) => c.status === 'fulfilled');
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : 'degraded',
      services: { neo4j, postgres, redis },
      policy: resources.policy.bundle,
    });
  });

  // The policy catalog (seed 003): pack metadata with the signed bundle digest. Public data.
  app.get('/api/policy-packs', (_req, res) => {
    res.json({ packs: resources.policyPacks });
  });
  app.get('/api/policy-packs/:id', (req, res) => {
    const pack = resources.policyPacks.find((p) => p.id === req.params.id);
    if (pack) res.json(pack);
    else res.status(404).json({ error: { code: 'NOT_FOUND', message: 'no such policy pack' } });
  });

  if (options.devAuthSecret) {
    const secret = options.devAuthSecret;
    app.post('/dev/token', express.json({ limit: '4kb' }), async (req, res) => {
      const body = (req.body ?? {}) as { subject?: unknown; tenantId?: unknown };
      if (typeof body.subject !== 'string' || typeof body.tenantId !== 'string') {
        res
          .status(400)
          .json({ error: { code: 'BAD_REQUEST', message: 'subject and tenantId are required' } });
        return;
      }
      const token = await signDevToken(secret, { subject: body.subject, tenantId: body.tenantId });
      res.json({ token });
    });
  }

  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: ({ req }) =>
        createContext(resources, {
          authorization: req.headers.authorization,
          environment: req.header('x-maestro-environment'),
          region: req.header('x-maestro-region'),
        }),
    }),
  );

  // Body-parser failures (too large, malformed JSON) answer in GraphQL's error shape, coded.
  app.use((error: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    const type = (error as { type?: string } | null)?.type;
    if (type === 'entity.too.large') {
      res.status(413).json({
        errors: [{ message: 'request body is larger than 1 MiB', extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
      });
    } else if (type === 'entity.parse.failed') {
      res.status(400).json({
        errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
      });
    } else {
      next(error);
    }
  });

  return {
    app,
    apollo,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => resolve(httpServer));
      });
    },
    async stop() {
      // The drain plugin stops accepting connections and waits for in-flight requests.
      await apollo.stop();
    },
  };
}
