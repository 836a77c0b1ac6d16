// Bundled in place of @aws-sdk/credential-provider-node (serverless.yml custom.esbuild.alias).
// On Lambda the function role's credentials are always in the environment, so the SDK's full
// default chain (SSO, profiles, web identity, IMDS and the STS/SSO clients they need) would be
// bundled and initialised for nothing. Tests and the local engine keep the real chain.
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init) => fromEnv(init);
