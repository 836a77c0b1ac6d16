// The DynamoDB SDK code the completion table uses, in a module of its own: the functions that
// meet the table on every call import it at their start (src/completion-table.ts
// preloadTableClient), and check-status, which meets it only on rare paths, at first use.
export { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
