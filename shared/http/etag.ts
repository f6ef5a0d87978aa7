/**
 * Entity tags for optimistic concurrency (API-3): an item's ETag is its version,
 * `"v<version>"`, and an update must name the version it was made from in `If-Match`
 * (RFC 9110 §13.1.1). Without the header the update is refused with 428; a version that
 * is no longer current gets 412 from the store's conditional write.
 */
import { PreconditionRequiredError, ValidationError } from '#shared/domain/errors';

export function etagOf(version: number): string {
  return `"v${version}"`;
}

const entityTagList = /^\s*(?:W\/)?"[\x21\x23-\x7e]*"\s*(?:,\s*(?:W\/)?"[\x21\x23-\x7e]*"\s*)*$/;

/**
 * The versions an `If-Match` header names. Weak tags never match (strong comparison) and
 * tags that are not ours match nothing, so both can only end in 412. `*` is refused:
 * an update must say which version it read, or it could overwrite a change it never saw.
 */
export function ifMatchVersions(header: string | undefined): readonly number[] {
  if (header === undefined || header.trim() === '') {
    throw new PreconditionRequiredError(
      'This update needs an If-Match header with the ETag of the version you read.',
    );
  }
  if (header.trim() === '*') {
    throw new PreconditionRequiredError('If-Match must name the ETag of the version you read, not *.');
  }
  if (!entityTagList.test(header) || header.length > 1024) {
    throw new ValidationError('If-Match must be a list of entity tags such as "v3".');
  }
  const versions: number[] = [];
  for (const match of header.matchAll(/(W\/)?"v([1-9][0-9]{0,14})"/g)) {
    if (match[1] === undefined) versions.push(Number(match[2]));
  }
  return versions;
}
