import type { BaseIssue } from 'valibot'

/** The path of a schema issue as keys: property names, and indexes as numbers. */
export function issueKeys(issue: BaseIssue<unknown>): unknown[] {
  return (issue.path ?? []).map((item) => item.key)
}

/** True when the issue is a key that a strict object does not know (the path's last key). */
export function isUnknownField(issue: BaseIssue<unknown>): boolean {
  return issue.type === 'strict_object' && issue.expected === 'never'
}

/** True when the issue is a key that an object needs and the input lacks (the path's last key). */
function isMissingField(issue: BaseIssue<unknown>): boolean {
  return (
    (issue.type === 'strict_object' || issue.type === 'object') &&
    issue.received === 'undefined' &&
    issue.expected !== 'Object' &&
    issue.expected !== 'never'
  )
}

/** Why the field at the issue's path is wrong, in words (`unknown field`, `is required`, or the schema's message). */
export function issueMessage(issue: BaseIssue<unknown>): string {
  if (isUnknownField(issue)) return 'unknown field'
  if (isMissingField(issue)) return 'is required'
  return issue.message
}
