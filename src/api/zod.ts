import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// `.openapi()` on every schema of the API; imported instead of 'zod' so it is always installed first.
extendZodWithOpenApi(z);

export { z };
export type { ZodType, ZodError } from 'zod';
