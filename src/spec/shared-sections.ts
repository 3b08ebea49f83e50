import { z } from 'zod';
import { analysisSchema } from './analysis';
import { healthCheckSchema, smokeTestSchema } from './checks';
import { deploySchema } from './deploy';
import { MAX_SMOKE_TESTS } from './limits';
import { migrationsSchema } from './migrations';
import { monitoringSchema } from './monitoring';
import { metricsSchema, notifySchema, trafficSchema } from './providers';
import { scheduleSchema } from './schedule';

/** The sections every strategy's spec has, with the same defaults: one zod source for both. */
export const sharedSections = {
  monitoring: monitoringSchema.default(monitoringSchema.parse({})),
  healthCheck: healthCheckSchema.default(healthCheckSchema.parse({})),
  smokeTests: z.array(smokeTestSchema).max(MAX_SMOKE_TESTS).default([]),
  analysis: analysisSchema.default(analysisSchema.parse({})),
  traffic: trafficSchema.default(trafficSchema.parse({})),
  metrics: metricsSchema.default(metricsSchema.parse({})),
  deploy: deploySchema.default({ provider: 'none' }),
  notify: notifySchema.default({}),
  migrations: migrationsSchema.optional(),
  schedule: scheduleSchema.optional(),
};
