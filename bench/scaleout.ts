export async function scaleout(_o: unknown): Promise<void> {
  throw new Error('not yet');
}
