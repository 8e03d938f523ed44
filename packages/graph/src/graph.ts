import { AppError } from '@maestro/domain';
import neo4j, {
  type Driver,
  type ManagedTransaction,
  type QueryResult,
  type RecordShape,
} from 'neo4j-driver';

export interface GraphOptions {
  uri: string;
  user: string;
  password: string;
  /** Defaults to neo4j's default database. */
  database?: string;
  maxConnectionPoolSize?: number;
}

/** The Neo4j adapter's handle. Domain code receives this through its `resources`. */
export interface Graph {
  readonly driver: Driver;
  readonly database: string | undefined;
  read<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T>;
  write<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const UNAVAILABLE = new Set(['ServiceUnavailable', 'SessionExpired']);

/** Neo4j connection and auth failures become coded errors that say which service is down. */
export function toGraphError(error: unknown): unknown {
  const code = (error as { code?: string } | null)?.code ?? '';
  if (UNAVAILABLE.has(code) || code === 'ECONNREFUSED') {
    return new AppError('SERVICE_UNAVAILABLE', 'graph store (neo4j) is unavailable', { cause: error });
  }
  if (code === 'Neo.ClientError.Security.Unauthorized') {
    return new AppError('SERVICE_UNAVAILABLE', 'graph store (neo4j) rejected our credentials', {
      cause: error,
    });
  }
  return error;
}

export function createGraph(options: GraphOptions): Graph {
  const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password), {
    maxConnectionPoolSize: options.maxConnectionPoolSize ?? 50,
    connectionAcquisitionTimeout: 10_000,
    disableLosslessIntegers: true,
  });
  const database = options.database;
  const session = (mode: 'READ' | 'WRITE') =>
    driver.session({
      database,
      defaultAccessMode: mode === 'READ' ? neo4j.session.READ : neo4j.session.WRITE,
    });

  async function run<T>(mode: 'READ' | 'WRITE', work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    const s = session(mode);
    try {
      return mode === 'READ' ? await s.executeRead(work) : await s.executeWrite(work);
    } catch (error) {
      throw toGraphError(error);
    } finally {
      await s.close();
    }
  }

  return {
    driver,
    database,
    read: (work) => run('READ', work),
    write: (work) => run('WRITE', work),
    async ping() {
      try {
        await driver.verifyConnectivity({ database });
      } catch (error) {
        throw toGraphError(error);
      }
    },
    close: () => driver.close(),
  };
}

/** Rows of a result as plain objects. */
export function rows<T extends RecordShape>(result: QueryResult<T>): T[] {
  return result.records.map((r) => r.toObject());
}
