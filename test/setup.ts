// The functions' JSON logs are for CloudWatch: a test run shows them only when asked, e.g.
// `SEQUENCER_LOG_LEVEL=INFO npm test` (or POWERTOOLS_LOG_LEVEL). Set before the test file loads
// its modules, since Powertools' Logger reads its level once, when src/logger.ts is imported.
process.env.SEQUENCER_LOG_LEVEL ??= process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT';
process.env.POWERTOOLS_LOG_LEVEL = process.env.SEQUENCER_LOG_LEVEL;
