// The schema is the sum of the modules; each registers its types on the builder.
import './scalars.ts';
import './error-types.ts';
import '../modules/communities/schema.ts';
import '../modules/threats/schema.ts';
import '../modules/collections/schema.ts';
import '../modules/indicators/schema.ts';
import '../modules/imports/schema.ts';
import '../modules/notifications/schema.ts';
import '../modules/telemetry/schema.ts';
import '../modules/detection/schema.ts';
import { builder } from './builder.ts';

export const schema = builder.toSchema({ sortSchema: true });
