export declare function ownDirectory(): string | undefined;
export declare function ownSubdirectory(name: string): string | undefined;
export declare function compileCacheDirectory(): string | undefined;
