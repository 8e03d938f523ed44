// vitest setupFiles entry: every test worker sees the service URLs in process.env.
import { loadServiceEnv } from './service-env.ts';

Object.assign(process.env, loadServiceEnv());
