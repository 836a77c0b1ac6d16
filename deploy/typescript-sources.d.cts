export function runsTypeScript(): boolean;
export function sourceSpecifier(specifier: string, parentURL: string | undefined): string;
