export const providerNames = ["artie", "bridgeport", "prisma", "postgres"] as const;
export type ProviderName = (typeof providerNames)[number];
