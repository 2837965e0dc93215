// Placeholder; the integration harness replaces it.
export async function run(): Promise<void> {}
