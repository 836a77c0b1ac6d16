export declare function ownDirectory(): string | undefined;
export declare function compileCacheDirectory(): string | undefined;
