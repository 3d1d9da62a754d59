export const providerNames = ["artie", "bridgeport", "prisma", "postgres", "mysql"] as const;
export type ProviderName = (typeof providerNames)[number];
